// buildPodManifest and the other pure pieces of the KubernetesBackend: the sandbox pod's
// security posture, labels, token handling, the claim patch and the standby plan. No server.

import { Pod } from 'kubernetes-models/v1/Pod';
import { describe, expect, test } from 'vitest';
import { buildPodManifest, standbyPodName, type PodManifestInput } from '@berth/orchestrator/kubernetes';
import { buildClaimPatch } from '@berth/orchestrator/kubernetes';
import { planStandbys } from '@berth/orchestrator/kubernetes';
import { AgentTokenKeyring, tokenMatchesSha256, tokenSha256 } from '@berth/orchestrator/kubernetes';
import { sessionLabelValue } from '@berth/orchestrator/kubernetes';

const keyring = new AgentTokenKeyring([{ kid: 'k1', secret: Buffer.alloc(32, 1) }, { kid: 'k0', secret: Buffer.alloc(32, 2) }]);
const token = keyring.tokenFor('k1', 'berth-default-0-0', 'nonce-1')!;

function input(overrides: Partial<PodManifestInput> = {}): PodManifestInput {
  return {
    profile: { name: 'default', poolSize: 2, resources: { cpu: 0.5, memoryMiB: 1024 } },
    name: 'berth-default-0-0',
    namespace: 'berth-sandboxes',
    pool: 'berth',
    defaultImage: 'ghcr.io/example/berth-agent:1',
    agentPort: 8000,
    state: 'standby',
    slot: 0,
    token: { kid: 'k1', nonce: 'nonce-1', sha256Hex: tokenSha256(token) },
    env: { BERTH_EGRESS_URL: 'http://berth-egress.berth:8081' },
    ...overrides,
  };
}

describe('buildPodManifest', () => {
  const pod = buildPodManifest(input());
  const container = pod.spec!.containers[0]!;
  const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value]));

  test('is a valid v1 Pod by the Kubernetes OpenAPI schema', () => {
    expect(() => new Pod(pod as ConstructorParameters<typeof Pod>[0]).validate()).not.toThrow();
  });

  test('runs unprivileged: non-root, no capabilities, RuntimeDefault seccomp, read-only root, no escalation', () => {
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('gets no API credentials, no service env vars, and is never restarted', () => {
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    expect(pod.spec!.enableServiceLinks).toBe(false);
    expect(pod.spec!.restartPolicy).toBe('Never');
  });

  test('writes only to emptyDir scratch volumes: HOME, /tmp and the workspace (BERTH_AGENT_DATA_DIR)', () => {
    expect(pod.spec!.volumes!.map((v) => [v.name, v.emptyDir !== undefined])).toEqual([['home', true], ['tmp', true], ['workspace', true]]);
    expect(container.volumeMounts!.map((m) => m.mountPath)).toEqual(['/home/agent', '/tmp', '/workspace']);
    expect(env).toMatchObject({ HOME: '/home/agent', TMPDIR: '/tmp', BERTH_AGENT_DATA_DIR: '/workspace' });
  });

  test('holds only the SHA-256 of its agent token, never the token, and no Secret reference', () => {
    expect(env.AGENT_AUTH_TOKEN_SHA256).toBe(tokenSha256(token));
    expect(env.AGENT_AUTH_TOKEN).toBeUndefined();
    expect(JSON.stringify(pod)).not.toContain(token);
    expect(container.env!.some((e) => e.valueFrom !== undefined)).toBe(false);
    expect(tokenMatchesSha256(token, env.AGENT_AUTH_TOKEN_SHA256!)).toBe(true);
  });

  test('labels pool, profile and state; a standby has a slot and no session or tenant data', () => {
    expect(pod.metadata!.labels).toEqual({
      'app.kubernetes.io/managed-by': 'berth',
      'berth.dev/pool': 'berth',
      'berth.dev/profile': 'default',
      'berth.dev/state': 'standby',
      'berth.dev/egress': 'proxy',
      'berth.dev/slot': '0',
      // Image + profile + agent env: standbys from another definition are replaced after an upgrade.
      'berth.dev/spec-hash': expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(Object.keys(pod.metadata!.annotations!).sort()).toEqual(['berth.dev/token-kid', 'berth.dev/token-nonce']);
    expect(Object.keys(env).sort()).toEqual(['AGENT_AUTH_TOKEN_SHA256', 'BERTH_AGENT_DATA_DIR', 'BERTH_AGENT_HOST', 'BERTH_AGENT_PORT', 'BERTH_EGRESS_URL', 'HOME', 'TMPDIR']);
  });

  test('a cold-started pod is created claimed, with the session label (hashed) and annotation (exact)', () => {
    const cold = buildPodManifest(input({ state: 'claimed', slot: undefined, session: { id: 'chat_42-', claimedAtIso: '2025-01-01T00:00:00.000Z' } }));
    expect(cold.metadata!.labels).toMatchObject({ 'berth.dev/state': 'claimed', 'berth.dev/session': sessionLabelValue('chat_42-') });
    expect(cold.metadata!.labels!['berth.dev/slot']).toBeUndefined();
    expect(cold.metadata!.annotations).toMatchObject({ 'berth.dev/session-id': 'chat_42-', 'berth.dev/claimed-at': '2025-01-01T00:00:00.000Z' });
    // Session ids may end in '_' or '-' or be 64 long; label values may not, so the label is a hash.
    expect(sessionLabelValue('a'.repeat(64))).toMatch(/^[a-z0-9]{1,63}$/);
  });

  test('resources: requests from the profile, memory limit = request unless set, CPU limit only when asked', () => {
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '1024Mi' }, limits: { memory: '1024Mi' } });
    const limited = buildPodManifest(input({ profile: { name: 'big', poolSize: 0, resources: { cpu: 2, memoryMiB: 2048, cpuLimit: 4, memoryLimitMiB: 4096 } } }));
    expect(limited.spec!.containers[0]!.resources).toEqual({ requests: { cpu: '2000m', memory: '2048Mi' }, limits: { cpu: '4000m', memory: '4096Mi' } });
  });

  test('image and runtimeClassName come from the profile when it names them', () => {
    expect(container.image).toBe('ghcr.io/example/berth-agent:1');
    expect(pod.spec!.runtimeClassName).toBeUndefined();
    const gvisor = buildPodManifest(input({ profile: { name: 'secure', poolSize: 1, image: 'registry/agent:2', runtimeClassName: 'gvisor' } }));
    expect(gvisor.spec!.runtimeClassName).toBe('gvisor');
    expect(gvisor.spec!.containers[0]!.image).toBe('registry/agent:2');
  });

  test('readiness is a TCP probe: an HTTP probe would need the token in the spec', () => {
    expect(container.readinessProbe).toMatchObject({ tcpSocket: { port: 'http' } });
    expect(container.readinessProbe!.httpGet).toBeUndefined();
  });
});

describe('agent tokens', () => {
  test('derived per pod name and nonce; unknown key ids give no token', () => {
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(keyring.tokenFor('k1', 'berth-default-0-0', 'nonce-2')).not.toBe(token);
    expect(keyring.tokenFor('k1', 'berth-default-0-1', 'nonce-1')).not.toBe(token);
    expect(keyring.tokenFor('k0', 'berth-default-0-0', 'nonce-1')).not.toBe(token);
    expect(keyring.tokenFor('gone', 'berth-default-0-0', 'nonce-1')).toBeNull();
    expect(new AgentTokenKeyring([{ kid: 'k1', secret: Buffer.alloc(32, 1) }]).tokenFor('k1', 'berth-default-0-0', 'nonce-1')).toBe(token);
  });
});

describe('buildClaimPatch', () => {
  test('tests state and resourceVersion before it flips the state and binds the session', () => {
    const pod = { ...buildPodManifest(input()), metadata: { ...buildPodManifest(input()).metadata, resourceVersion: '42' } };
    const ops = buildClaimPatch(pod, 's-1', '2025-01-01T00:00:00.000Z');
    expect(ops.slice(0, 2)).toEqual([
      { op: 'test', path: '/metadata/labels/berth.dev~1state', value: 'standby' },
      { op: 'test', path: '/metadata/resourceVersion', value: '42' },
    ]);
    expect(ops.slice(2)).toEqual([
      { op: 'replace', path: '/metadata/labels/berth.dev~1state', value: 'claimed' },
      { op: 'add', path: '/metadata/labels/berth.dev~1session', value: sessionLabelValue('s-1') },
      { op: 'remove', path: '/metadata/labels/berth.dev~1slot' },
      { op: 'add', path: '/metadata/annotations/berth.dev~1session-id', value: 's-1' },
      { op: 'add', path: '/metadata/annotations/berth.dev~1claimed-at', value: '2025-01-01T00:00:00.000Z' },
    ]);
  });
});

describe('planStandbys', () => {
  const profile = { name: 'default', poolSize: 2 };
  const standby = (slot: number, generation: number, extra: Record<string, unknown> = {}) => ({
    ...buildPodManifest(input({ slot, name: standbyPodName('berth', 'default', slot, generation) })),
    ...extra,
  });
  // Every standby built here is current (same definition); standby-rollout-plan.test.ts covers outdated ones.
  const rollout = { specHash: standby(0, 0).metadata!.labels!['berth.dev/spec-hash']!, maxSurge: 1 };

  test('fills empty slots with the same names on every replica', () => {
    const plan = planStandbys('berth', profile, [], new Set(), () => true, rollout);
    expect(plan.create).toEqual([{ slot: 0, name: 'berth-default-0-0' }, { slot: 1, name: 'berth-default-1-0' }]);
  });

  test('skips generations whose names are still taken (a claimed or dying pod)', () => {
    const claimed = buildPodManifest(input({ state: 'claimed', slot: undefined, name: 'berth-default-0-0', session: { id: 's', claimedAtIso: 'x' } }));
    const plan = planStandbys('berth', profile, [claimed, standby(1, 0)], new Set(), () => true, rollout);
    expect(plan.create).toEqual([{ slot: 0, name: 'berth-default-0-1' }]);
  });

  test('removes duplicates in a slot (keeping the lowest name), surplus slots, failed and unusable standbys', () => {
    const pods = [
      standby(0, 0), standby(0, 1), standby(5, 0),
      standby(1, 0, { status: { phase: 'Failed' } }),
    ];
    const plan = planStandbys('berth', profile, pods, new Set(), (p) => p.metadata?.name !== 'berth-default-0-0', rollout);
    expect(plan.remove.map((r) => [r.name, r.why]).sort()).toEqual([
      ['berth-default-0-0', 'unusable'],
      ['berth-default-1-0', 'failed'],
      ['berth-default-5-0', 'surplus'],
    ]);
    expect(plan.create).toEqual([{ slot: 1, name: 'berth-default-1-1' }]);
  });

  test('does not create again for a slot whose create is in flight on this replica', () => {
    expect(planStandbys('berth', profile, [], new Set(['berth-default-0-0']), () => true, rollout).create).toEqual([{ slot: 1, name: 'berth-default-1-0' }]);
  });
});
