// buildSandboxParams (orchestrator/src/backends/modal/sandbox-params.ts): one test per profile
// option a Modal user expects, pinning that the sandbox definition carries it. The wire check
// (the same options reaching the fake control plane through the real client) is in
// tests/modal/modal-profile-options.test.ts.
import { describe, expect, test } from 'vitest';
import type { SandboxProfile } from '@berth/orchestrator';
import { buildSandboxParams, MODAL_TAGS, modalSpecHash, poolKeyFor, type ModalSandboxDefaults, type SandboxInstance } from '@berth/orchestrator/modal';

const defaults: ModalSandboxDefaults = {
  agentImage: 'ghcr.io/berth/agent-image:1.0',
  agentCommand: ['node', '/app/dist/main.js'],
  agentPort: 8000,
  timeoutMs: 6 * 3600_000,
  egressCidrs: ['203.0.113.7/32'],
  tunnel: 'encrypted',
  agentEnv: {},
};
const standby: SandboxInstance = { poolKey: 'default-abc', specHash: '0123456789abcdef', state: 'standby', authToken: 'tok-1', createdAtMs: 1_700_000_000_000 };
const base: SandboxProfile = { name: 'default', poolSize: 2 };

function build(profile: Partial<SandboxProfile>, d: Partial<ModalSandboxDefaults> = {}, instance: SandboxInstance = standby) {
  return buildSandboxParams({ ...base, ...profile }, { ...defaults, ...d }, instance);
}

describe('buildSandboxParams', () => {
  test('image: the profile registry tag wins over the default agent image', () => {
    expect(build({}).image).toEqual({ kind: 'registry', tag: 'ghcr.io/berth/agent-image:1.0' });
    expect(build({ image: 'registry.example/agent:2' }).image).toEqual({ kind: 'registry', tag: 'registry.example/agent:2' });
  });

  test('image: a named Modal image (modal.imageName) is used as such', () => {
    expect(build({ image: 'ignored:1', modal: { imageName: 'berth-agent:v3' } }).image).toEqual({ kind: 'named', name: 'berth-agent:v3' });
  });

  test('image: a profile with no image anywhere is a configuration error naming the fix', () => {
    expect(() => build({}, { agentImage: undefined })).toThrow(/BERTH_AGENT_IMAGE/);
  });

  test('command and agent server environment: host, port and the per-sandbox token only', () => {
    const { params } = build({}, { agentEnv: { NODE_OPTIONS: '--max-old-space-size=768' } });
    expect(params.command).toEqual(['node', '/app/dist/main.js']);
    expect(params.env).toEqual({ NODE_OPTIONS: '--max-old-space-size=768', BERTH_AGENT_HOST: '0.0.0.0', BERTH_AGENT_PORT: '8000', AGENT_AUTH_TOKEN: 'tok-1' });
  });

  test('ports: an encrypted tunnel for the agent port by default, a raw TCP one in unencrypted mode', () => {
    expect(build({}).params).toMatchObject({ encryptedPorts: [8000] });
    expect(build({}).params.unencryptedPorts).toBeUndefined();
    expect(build({}, { tunnel: 'unencrypted', agentPort: 9000 }).params).toMatchObject({ unencryptedPorts: [9000] });
  });

  test('readiness probe: TCP on the agent port', () => {
    expect(build({}, { agentPort: 8123 }).readiness).toEqual({ tcpPort: 8123 });
  });

  test('lifetime: the profile timeoutMs, else the backend default; never an idle timeout', () => {
    expect(build({}).params.timeoutMs).toBe(6 * 3600_000);
    expect(build({ modal: { timeoutMs: 7200_000 } }).params.timeoutMs).toBe(7200_000);
    expect(build({ modal: { timeoutMs: 7200_000 } }).params.idleTimeoutMs).toBeUndefined();
  });

  test('resources: cpu, memory and their limits', () => {
    const { params } = build({ resources: { cpu: 2, memoryMiB: 4096, cpuLimit: 4, memoryLimitMiB: 8192 } });
    expect(params).toMatchObject({ cpu: 2, memoryMiB: 4096, cpuLimit: 4, memoryLimitMiB: 8192 });
    expect(build({}).params.cpu).toBeUndefined();
  });

  test('GPU', () => {
    expect(build({ modal: { gpu: 'A100:2' } }).params.gpu).toBe('A100:2');
    expect(build({}).params.gpu).toBeUndefined();
  });

  test('volumes: name → mount path becomes mount path → name', () => {
    expect(build({ modal: { volumes: { 'berth-cache': '/cache', models: '/models' } } }).volumes).toEqual({ '/cache': 'berth-cache', '/models': 'models' });
  });

  test('secrets: Modal Secret names', () => {
    expect(build({ modal: { secrets: ['github-token', 'npm-token'] } }).secrets).toEqual(['github-token', 'npm-token']);
  });

  test('region: one or several', () => {
    expect(build({ modal: { region: 'us-east' } }).params.regions).toEqual(['us-east']);
    expect(build({ modal: { region: ['eu-west', 'eu-north'] } }).params.regions).toEqual(['eu-west', 'eu-north']);
  });

  test('egress: locked to the egress gateway CIDRs, for both egress modes, never open', () => {
    for (const egress of ['proxy', 'none'] as const) {
      const { params } = build({ egress });
      expect(params.outboundCidrAllowlist).toEqual(['203.0.113.7/32']);
      expect(params.blockNetwork).toBeUndefined();
    }
  });

  test('egress: no egress gateway configured means no network at all (blockNetwork)', () => {
    const { params } = build({ egress: 'none' }, { egressCidrs: [] });
    expect(params.blockNetwork).toBe(true);
    expect(params.outboundCidrAllowlist).toBeUndefined();
  });

  test('inbound: the tunnel accepts only the allowlisted CIDRs; with no egress an empty outbound list replaces blockNetwork', () => {
    expect(build({ modal: { inboundCidrAllowlist: ['198.51.100.0/24'] } }).params.inboundCidrAllowlist).toEqual(['198.51.100.0/24']);
    const closed = build({ modal: { inboundCidrAllowlist: ['198.51.100.0/24'] } }, { egressCidrs: [] }).params;
    // Modal refuses blockNetwork together with an inbound allowlist.
    expect(closed.blockNetwork).toBeUndefined();
    expect(closed.outboundCidrAllowlist).toEqual([]);
  });

  test('tags: berth marker, pool, spec hash and state; a claimed sandbox also carries its session and claim time', () => {
    expect(build({}).params.tags).toEqual({ [MODAL_TAGS.berth]: 'agent', [MODAL_TAGS.pool]: 'default-abc', [MODAL_TAGS.specHash]: '0123456789abcdef', [MODAL_TAGS.state]: 'standby', [MODAL_TAGS.createdAtMs]: '1700000000000' });
    const claimed = build({}, {}, { ...standby, state: 'claimed', sessionId: 'demo-1', claimedAtMs: 1_700_000_000_500 }).params.tags;
    expect(claimed).toMatchObject({ [MODAL_TAGS.state]: 'claimed', [MODAL_TAGS.session]: 'demo-1', [MODAL_TAGS.claimedAtMs]: '1700000000500' });
  });
});

describe('poolKeyFor and modalSpecHash', () => {
  test('the pool key is the tag-safe profile name: the same before and after an upgrade', () => {
    expect(poolKeyFor(base)).toBe('default');
    expect(poolKeyFor({ ...base, image: 'other:1' })).toBe('default');
    expect(poolKeyFor({ ...base, name: 'gpu.large' })).toBe('gpu_large');
  });

  test('the spec hash changes with the sandbox definition, not with the pool size or the per-sandbox token', () => {
    const hash = modalSpecHash(base, defaults);
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(modalSpecHash(base, { ...defaults })).toBe(hash);
    expect(modalSpecHash({ ...base, poolSize: 7 }, defaults)).toBe(hash);
    expect(modalSpecHash({ ...base, resources: { memoryMiB: 2048 } }, defaults)).not.toBe(hash);
    expect(modalSpecHash({ ...base, image: 'other:1' }, defaults)).not.toBe(hash);
    expect(modalSpecHash(base, { ...defaults, agentImage: 'ghcr.io/berth/agent-image:1.1' })).not.toBe(hash);
    expect(modalSpecHash(base, { ...defaults, agentEnv: { X: '1' } })).not.toBe(hash);
    expect(modalSpecHash(base, { ...defaults, egressCidrs: ['198.51.100.1/32'] })).not.toBe(hash);
    expect(modalSpecHash({ ...base, modal: { imageName: 'berth-agent:v3' } }, defaults)).not.toBe(hash);
  });
});
