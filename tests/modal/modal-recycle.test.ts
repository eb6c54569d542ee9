// Standbys are recycled before Modal's lifetime ends them, and a claim never gets one that is
// about to expire. Time is moved with an injected clock (its offset), not by waiting.
import { expect, test } from 'vitest';
import { MemoryStandbyRegistry } from '@berth/gateway';
import type { StandbyRegistry } from '@berth/orchestrator/modal';
import { waitFor } from '../fixtures/wait-for.js';
import { newModalBackend, useFakeModal } from '../fixtures/fake-modal/modal-backend-harness.js';

const modal = useFakeModal();

function offsetClock() {
  let offsetMs = 0;
  return {
    advance: (ms: number) => void (offsetMs += ms),
    clock: {
      now: () => Date.now() + offsetMs,
      schedule(fn: () => void, delayMs: number) {
        const timer = setTimeout(fn, delayMs);
        timer.unref();
        return () => clearTimeout(timer);
      },
    },
  };
}

const LIFETIME_MS = 2 * 3600_000;
const RECYCLE_BEFORE_MS = 3600_000;

/**
 * The registry as the backend sees it, counting the backend's listStandbys calls: each pool
 * maintenance pass starts with one, and passes never overlap, so two calls after a moment mean
 * one whole pass ran after it.
 */
function countingRegistry(registry: MemoryStandbyRegistry): { standbys: StandbyRegistry; lists: () => number } {
  let lists = 0;
  const standbys = new Proxy(registry, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property === 'listStandbys') return (...args: unknown[]) => { lists++; return (value as (...a: unknown[]) => unknown).apply(target, args); };
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { standbys, lists: () => lists };
}

test('maintenance recycles a standby before its lifetime runs out and replaces it', async () => {
  const registry = new MemoryStandbyRegistry();
  const counted = countingRegistry(registry);
  const time = offsetClock();
  const backend = await newModalBackend({ profiles: [{ name: 'default', poolSize: 1 }], standbys: counted.standbys, appName: 'recycle-1', clock: time.clock, sandboxTimeoutMs: LIFETIME_MS, recycleBeforeMs: RECYCLE_BEFORE_MS, maintenanceIntervalMs: 100 });
  await backend.start();
  try {
    const key = backend.standbyRegistryKey('default')!;
    await waitFor('one standby', async () => (await registry.listStandbys(key)).length === 1);
    const first = (await registry.listStandbys(key))[0]!.sandboxId;
    expect(modal().controlPlane.sandboxes.get(first)?.definition.timeoutSecs).toBe(LIFETIME_MS / 1000);
    // Not yet inside the recycle window: it stays.
    time.advance(LIFETIME_MS - RECYCLE_BEFORE_MS - 60_000);
    const listsAtAdvance = counted.lists();
    await waitFor('a whole maintenance pass on the advanced clock', () => counted.lists() >= listsAtAdvance + 2);
    expect((await registry.listStandbys(key)).map((e) => e.sandboxId)).toEqual([first]);
    // Inside it: terminated while Modal would still run it, and replaced.
    time.advance(120_000);
    await waitFor('first standby terminated', async () => modal().controlPlane.sandboxes.get(first)?.result != null);
    await waitFor('a replacement standby', async () => (await registry.listStandbys(key)).some((e) => e.sandboxId !== first));
    expect((await registry.listStandbys(key)).map((e) => e.sandboxId)).not.toContain(first);
  } finally {
    await backend.stop();
  }
});

test('a claim skips a standby inside the recycle window and cold-starts instead', async () => {
  const registry = new MemoryStandbyRegistry();
  const time = offsetClock();
  // Maintenance effectively off, so only the claim sees the expiring standby.
  const backend = await newModalBackend({ profiles: [{ name: 'default', poolSize: 1 }], standbys: registry, appName: 'recycle-2', clock: time.clock, sandboxTimeoutMs: LIFETIME_MS, recycleBeforeMs: RECYCLE_BEFORE_MS, maintenanceIntervalMs: 3600_000 });
  await backend.start();
  try {
    const key = backend.standbyRegistryKey('default')!;
    await waitFor('one standby', async () => (await registry.listStandbys(key)).length === 1);
    const expiring = (await registry.listStandbys(key))[0]!.sandboxId;
    time.advance(LIFETIME_MS - RECYCLE_BEFORE_MS + 1000);
    const sandbox = await backend.claim('late', 'default');
    expect(sandbox.outcome).toBe('cold');
    expect(sandbox.sandboxId).not.toBe(expiring);
    await waitFor('expiring standby terminated', async () => modal().controlPlane.sandboxes.get(expiring)?.result != null);
  } finally {
    await backend.stop();
  }
});
