// Two gateway replicas (two ModalBackends sharing one registry and one Modal app) claim 30
// sessions at once from a pool of 5: no sandbox goes to two sessions, and after some sessions
// end (released on the OTHER replica, or lost without a release) plus one sweep, nothing leaks:
// every berth sandbox still running is a live session's or a registered standby. Also pins the
// RPCs one warm claim costs (countRpcs, the bench helper).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MemoryStandbyRegistry } from '@berth/gateway';
import type { ClaimedSandbox, SandboxBackend } from '@berth/orchestrator';
import { waitFor } from '../fixtures/wait-for.js';
import { applyFakeModalEnv, countRpcs, startFakeModal, type FakeModal } from '../fixtures/fake-modal/index.js';
import { newModalBackend } from '../fixtures/fake-modal/modal-backend-harness.js';

let fake: FakeModal;
let undoEnv: () => void;
const opened: SandboxBackend[] = [];

beforeAll(async () => {
  fake = await startFakeModal();
  undoEnv = applyFakeModalEnv(fake.env);
});

afterAll(async () => {
  await Promise.allSettled(opened.map((b) => b.stop()));
  undoEnv?.();
  await fake?.stop();
});

const APP = 'two-replicas';
const profiles = [{ name: 'default', poolSize: 5 }];

function runningInApp(): string[] {
  const appId = [...fake.controlPlane.apps.entries()].find(([key]) => key.endsWith(`/${APP}`))?.[1];
  return fake.controlPlane.running().filter((s) => s.appId === appId).map((s) => s.id);
}

test('30 concurrent claims on two replicas from a pool of 5: no double claim, no leak after one sweep', async () => {
  const registry = new MemoryStandbyRegistry();
  // Replica B sweeps with no grace: the pools are settled before it runs, so nothing is mid-creation.
  // 30+ real agent processes: no standby CLI in them (≈150 MiB and a CPU burst each), which this
  // race is not about; the journey contract runs the pre-started path.
  const lean = { BERTH_AGENT_PRESTART: '0' };
  const a = await newModalBackend({ profiles, standbys: registry, appName: APP, onStop: 'keep', agentEnv: lean });
  const b = await newModalBackend({ profiles, standbys: registry, appName: APP, onStop: 'keep', sweepGraceMs: 0, agentEnv: lean });
  opened.push(a, b);
  await Promise.all([a.start(), b.start()]);
  const settled = async (): Promise<boolean> => {
    const [pa, pb] = [(await a.pool())[0]!, (await b.pool())[0]!];
    return pa.starting === 0 && pb.starting === 0 && pa.ready === 5;
  };
  // Both replicas fill the shared pool; an overshoot is trimmed back to 5.
  await waitFor('shared pool of 5 settled', settled, { timeoutMs: 60_000 });

  const sessions = Array.from({ length: 30 }, (_, i) => `replica-s${i}`);
  const claims = await Promise.all(sessions.map((s, i) => (i % 2 === 0 ? a : b).claim(s, 'default')));
  const bySession = new Map(sessions.map((s, i) => [s, claims[i]!] as [string, ClaimedSandbox]));

  expect(new Set(claims.map((c) => c.sandboxId)).size).toBe(30);
  const warm = claims.filter((c) => c.outcome === 'warm').length;
  expect(warm).toBeGreaterThanOrEqual(1);
  // Each sandbox is tagged with exactly the session that holds it (tags are reconciliation data).
  for (const [session, claim] of bySession) expect(fake.controlPlane.sandboxes.get(claim.sandboxId)?.tags['berth-session']).toBe(session);
  const [pa, pb] = [(await a.pool())[0]!, (await b.pool())[0]!];
  expect(pa.warmClaims + pb.warmClaims).toBe(warm);
  expect(pa.coldStarts + pb.coldStarts).toBe(30 - warm);
  expect(pa.claimed).toBe(30); // cluster-wide, from Modal's tags

  // Sessions 0-9 end normally, released by the replica that did NOT claim them; 10-14 are lost
  // (their records vanish without a release, e.g. a replica crashed). A third replica with its
  // own (lost) registry leaves one standby behind, too.
  await Promise.all(sessions.slice(0, 10).map((s, i) => (i % 2 === 0 ? b : a).release(s)));
  const live = new Set(sessions.slice(15));
  const orphanRegistry = new MemoryStandbyRegistry();
  const c = await newModalBackend({ profiles: [{ name: 'default', poolSize: 1 }], standbys: orphanRegistry, appName: APP, onStop: 'keep' });
  opened.push(c);
  await c.start();
  const key = a.standbyRegistryKey('default')!;
  expect(c.standbyRegistryKey('default')).toBe(key); // same profile, same definition: same pool
  await waitFor('replica C standby', async () => (await orphanRegistry.listStandbys(key)).length === 1, { timeoutMs: 30_000 });
  const orphanStandby = (await orphanRegistry.listStandbys(key))[0]!.sandboxId;
  await c.stop();
  await waitFor('pools settled again', settled, { timeoutMs: 60_000 });

  const report = await b.sweep(async (session) => live.has(session));
  expect(report.removed).toContain(orphanStandby);
  for (const s of sessions.slice(10, 15)) expect(report.removed).toContain(bySession.get(s)!.sandboxId);

  await waitFor('pools settled after the sweep', settled, { timeoutMs: 60_000 });
  const expected = new Set([...[...live].map((s) => bySession.get(s)!.sandboxId), ...(await registry.listStandbys(key)).map((e) => e.sandboxId)]);
  expect(new Set(runningInApp())).toEqual(expected);
  expect(expected.size).toBe(15 + 5);
});

test('a warm claim costs one Modal RPC (the re-tag); countRpcs measures it', async () => {
  const registry = new MemoryStandbyRegistry();
  const backend = await newModalBackend({ profiles: [{ name: 'default', poolSize: 1 }], standbys: registry, appName: 'rpc-count' });
  opened.push(backend);
  await backend.start();
  await waitFor('one standby', async () => (await backend.pool())[0]!.ready === 1);
  const { result, byRpc } = await countRpcs(fake, () => backend.claim('rpc-1', 'default'));
  expect(result.outcome).toBe('warm');
  expect(byRpc.SandboxTagsSetV2).toBe(1);
  // The only other RPC that may land meanwhile is the refill's create, not part of the claim.
  expect(Object.keys(byRpc).filter((rpc) => rpc !== 'SandboxTagsSetV2' && rpc !== 'SandboxCreateV2')).toEqual([]);
  await backend.stop();
});
