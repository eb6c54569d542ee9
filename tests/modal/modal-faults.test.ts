// Each fault knob of the fake Modal control plane, and what ModalBackend makes of it: Modal's
// errors arrive as SandboxError codes, nothing is left running, and the pool heals.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { MemoryStandbyRegistry } from '@berth/gateway';
import type { SandboxBackend } from '@berth/orchestrator';
import { waitFor } from '../fixtures/wait-for.js';
import { applyFakeModalEnv, startFakeModal, type FakeModal } from '../fixtures/fake-modal/index.js';
import { newModalBackend } from '../fixtures/fake-modal/modal-backend-harness.js';

let fake: FakeModal;
let undoEnv: () => void;
let opened: SandboxBackend[] = [];
let apps = 0;

beforeAll(async () => {
  fake = await startFakeModal();
  undoEnv = applyFakeModalEnv(fake.env);
});

afterEach(async () => {
  await Promise.allSettled(opened.map((b) => b.stop()));
  opened = [];
  Object.assign(fake.controlPlane.faults, { createResourceExhausted: 0, tunnelsTimeOut: false, unavailable: 0 });
});

afterAll(async () => {
  undoEnv?.();
  await fake?.stop();
});

async function open(poolSize: number, extra: Parameters<typeof newModalBackend>[0] extends infer O ? Partial<O> : never = {}) {
  const appName = `faults-${++apps}`;
  const registry = new MemoryStandbyRegistry();
  const backend = await newModalBackend({ profiles: [{ name: 'default', poolSize }], standbys: registry, appName, ...extra });
  opened.push(backend);
  await backend.start();
  const running = (): string[] => {
    const appId = [...fake.controlPlane.apps.entries()].find(([key]) => key.endsWith(`/${appName}`))?.[1];
    return fake.controlPlane.running().filter((s) => s.appId === appId).map((s) => s.id);
  };
  const registered = async (): Promise<string[]> => (await registry.listStandbys(backend.standbyRegistryKey('default')!)).map((e) => e.sandboxId);
  return { backend, running, registered };
}

describe('fault knobs', () => {
  test('create fails with RESOURCE_EXHAUSTED: the claim rejects with capacity_exhausted, the next one succeeds', async () => {
    const { backend } = await open(0);
    fake.controlPlane.faults.createResourceExhausted = 1;
    await expect(backend.claim('full-1', 'default')).rejects.toMatchObject({ name: 'SandboxError', code: 'capacity_exhausted' });
    const sandbox = await backend.claim('full-1', 'default');
    expect(sandbox.outcome).toBe('cold');
  });

  test('a standby dies on its own: the claim skips it and cold-starts a healthy sandbox', async () => {
    const { backend, running } = await open(1, { maintenanceIntervalMs: 3600_000 });
    await waitFor('one standby', async () => (await backend.pool())[0]!.ready === 1);
    const dead = fake.controlPlane.sandboxes.get(running()[0]!)!;
    expect(dead.tags['berth-state']).toBe('standby');
    await fake.controlPlane.crash(dead.id);
    const sandbox = await backend.claim('after-crash', 'default');
    expect(sandbox.sandboxId).not.toBe(dead.id);
    expect(sandbox.outcome).toBe('cold');
    expect((await fetch(new URL('/health', sandbox.url), { headers: { 'x-berth-agent-token': sandbox.authToken } })).status).toBe(200);
  });

  test('a registered standby that died is forgotten by the sweep; a claimed one that died is reported removed', async () => {
    const { backend, running, registered } = await open(1, { maintenanceIntervalMs: 3600_000 });
    await waitFor('one standby', async () => (await backend.pool())[0]!.ready === 1);
    const claimed = await backend.claim('doomed', 'default');
    await waitFor('refilled', async () => (await backend.pool())[0]!.ready === 1);
    const standbyId = running().find((id) => id !== claimed.sandboxId)!;
    expect(await registered()).toEqual([standbyId]);
    await fake.controlPlane.crash(standbyId);
    await fake.controlPlane.crash(claimed.sandboxId);
    const report = await backend.sweep(async () => true);
    expect(report.removed).toEqual(expect.arrayContaining([standbyId, claimed.sandboxId]));
    expect((await backend.pool())[0]!.claimed).toBe(0);
    expect(await registered()).not.toContain(standbyId);
  });

  test('tunnels time out: the claim rejects with timeout and the sandbox is terminated, not leaked', async () => {
    const { backend, running } = await open(0, { tunnelTimeoutMs: 1000 });
    fake.controlPlane.faults.tunnelsTimeOut = true;
    await expect(backend.claim('no-tunnel', 'default')).rejects.toMatchObject({ name: 'SandboxError', code: 'timeout' });
    expect(running()).toEqual([]);
  });

  test('control plane UNAVAILABLE beyond the client retries: the claim rejects with unavailable, then recovers', async () => {
    const { backend } = await open(0);
    // A first claim caches the auth token, app and image, so the next one makes a single RPC
    // (the create), which the client tries 4 times (3 retries): 4 failures surface the error.
    await backend.claim('warm-up', 'default');
    fake.controlPlane.faults.unavailable = 4;
    await expect(backend.claim('flaky', 'default')).rejects.toMatchObject({ name: 'SandboxError', code: 'unavailable' });
    expect(fake.controlPlane.faults.unavailable).toBe(0);
    expect((await backend.claim('flaky', 'default')).outcome).toBe('cold');
  });
});
