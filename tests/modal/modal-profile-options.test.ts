// Profile options on the wire: a sandbox claimed through the real modal@0.11.1 client carries
// every option in the definition the fake control plane received (the per-option logic is pinned
// by tests/unit/modal-sandbox-params.test.ts). Includes the GPU profile, which the client sends
// through the V1 RPC family, and the default encrypted tunnel mode, checked at the platform edge
// (the fake cannot serve TLS, so no health check there).
import { describe, expect, test } from 'vitest';
import { MemoryStandbyRegistry } from '@berth/gateway';
import type { SandboxProfile } from '@berth/orchestrator';
import { newModalBackend, useFakeModal } from '../fixtures/fake-modal/modal-backend-harness.js';

const modal = useFakeModal();

describe('profile options reach the sandbox definition', () => {
  test('named image, cpu, memory, limits, lifetime, volumes, secrets, region, egress and inbound allowlists, probe, tags', async () => {
    const imageId = modal().controlPlane.publishImage('berth-agent:v3');
    const volumeId = modal().controlPlane.addVolume('berth-cache');
    modal().controlPlane.addSecret('github-token', { GITHUB_TOKEN: 'ghp_fake' });
    const profile: SandboxProfile = {
      name: 'rich',
      poolSize: 0,
      resources: { cpu: 2, memoryMiB: 2048, cpuLimit: 4, memoryLimitMiB: 4096 },
      modal: { imageName: 'berth-agent:v3', timeoutMs: 7200_000, volumes: { 'berth-cache': '/cache' }, secrets: ['github-token'], region: ['us-east'], inboundCidrAllowlist: ['127.0.0.0/8'] },
    };
    const backend = await newModalBackend({ profiles: [profile], standbys: new MemoryStandbyRegistry(), appName: 'options-rich', egressCidrs: ['127.0.0.1/32'] });
    await backend.start();
    try {
      const sandbox = await backend.claim('opt-1', 'rich');
      const create = modal().controlPlane.creates.find((c) => c.sandboxId === sandbox.sandboxId);
      expect(create?.rpc).toBe('SandboxCreateV2');
      const d = create!.definition;
      expect(d.imageId).toBe(imageId);
      expect(d.entrypointArgs).toEqual(['/usr/bin/tini', '--', 'node', '/app/dist/main.js']);
      expect(d.resources).toMatchObject({ milliCpu: 2000, milliCpuMax: 4000, memoryMb: 2048, memoryMbMax: 4096 });
      expect(d.timeoutSecs).toBe(7200);
      expect(d.idleTimeoutSecs).toBeUndefined();
      expect(d.volumeMounts).toEqual([expect.objectContaining({ volumeId, mountPath: '/cache' })]);
      expect(d.schedulerPlacement?.regions).toEqual(['us-east']);
      expect(d.networkAccess).toMatchObject({ networkAccessType: 3, allowedCidrs: ['127.0.0.1/32'] });
      expect(d.inboundCidrAllowlist).toEqual(['127.0.0.0/8']);
      expect(d.openPorts.ports).toEqual([expect.objectContaining({ port: 8000, unencrypted: true })]);
      expect(d.readinessProbe).toMatchObject({ tcpPort: 8000 });
      expect(create!.tags).toMatchObject({ berth: 'agent', 'berth-state': 'claimed', 'berth-session': 'opt-1' });
      // The named Secret and the per-sandbox token both reached the sandbox's environment.
      expect(create!.env).toMatchObject({ GITHUB_TOKEN: 'ghp_fake', AGENT_AUTH_TOKEN: sandbox.authToken });
    } finally {
      await backend.stop();
    }
  });

  test('GPU goes through the V1 RPC family and the claim still works end to end', async () => {
    const backend = await newModalBackend({ profiles: [{ name: 'gpu', poolSize: 0, modal: { gpu: 'T4' } }], standbys: new MemoryStandbyRegistry(), appName: 'options-gpu' });
    await backend.start();
    try {
      const sandbox = await backend.claim('opt-gpu', 'gpu');
      const create = modal().controlPlane.creates.find((c) => c.sandboxId === sandbox.sandboxId);
      expect(create?.rpc).toBe('SandboxCreate');
      expect(create!.definition.resources.gpuConfig).toMatchObject({ gpuType: 'T4', count: 1 });
      // In V1 the environment travels as an ephemeral Secret; the agent still got its token.
      expect(create!.env.AGENT_AUTH_TOKEN).toBe(sandbox.authToken);
      expect((await fetch(new URL('/health', sandbox.url), { headers: { 'x-berth-agent-token': sandbox.authToken } })).status).toBe(200);
      await backend.release('opt-gpu');
      expect(modal().controlPlane.sandboxes.get(sandbox.sandboxId)?.result).not.toBeNull();
    } finally {
      await backend.stop();
    }
  });

  test('no egress gateway configured: the sandbox has no network (BLOCKED)', async () => {
    const backend = await newModalBackend({ profiles: [{ name: 'closed', poolSize: 0, egress: 'none' }], standbys: new MemoryStandbyRegistry(), appName: 'options-closed', egressCidrs: [] });
    await backend.start();
    try {
      const sandbox = await backend.claim('opt-closed', 'closed');
      const create = modal().controlPlane.creates.find((c) => c.sandboxId === sandbox.sandboxId);
      expect(create!.definition.networkAccess).toMatchObject({ networkAccessType: 2 });
    } finally {
      await backend.stop();
    }
  });

  test('default encrypted mode: an encrypted port, and the https tunnel URL Modal hands out', async () => {
    const { ModalPlatform } = await import('@berth/orchestrator/modal');
    const { buildSandboxParams } = await import('@berth/orchestrator/modal');
    const platform = await ModalPlatform.connect({ appName: 'options-tls', tunnel: 'encrypted' });
    const defaults = { agentImage: 'ghcr.io/berth/agent-image:test', agentCommand: ['node', 'main.js'], agentPort: 8000, timeoutMs: 3600_000, egressCidrs: ['127.0.0.1/32'], tunnel: 'encrypted' as const, agentEnv: {} };
    const spec = buildSandboxParams({ name: 'tls', poolSize: 0 }, defaults, { poolKey: 'tls-x', specHash: '0000000000000000', state: 'standby', authToken: 't'.repeat(43), createdAtMs: Date.now() });
    const created = await platform.create(spec);
    try {
      expect(created.url).toMatch(/^https:\/\/.+\.fake-modal\.host$/);
      const create = modal().controlPlane.creates.find((c) => c.sandboxId === created.sandboxId);
      expect(create!.definition.openPorts.ports).toEqual([expect.objectContaining({ port: 8000, unencrypted: false })]);
    } finally {
      await platform.terminate(created.sandboxId);
      platform.close();
    }
  });
});
