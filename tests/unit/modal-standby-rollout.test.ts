// Modal standby replacement after an upgrade (orchestrator/src/backends/modal/standby-rollout.ts
// and ModalStandbyPool.take): the arithmetic that keeps a pool at its size and at most maxSurge
// above it while outdated standbys are replaced, and the claim rule: no claim gets a standby of
// an outdated spec hash while one of the current hash is registered.
import { describe, expect, test } from 'vitest';
import { MemoryStandbyRegistry } from '@berth/gateway';
import { planReplenish } from '@berth/orchestrator';
import { encodeStandbyData, ModalStandbyPool, planRollout, type StandbyPoolDeps } from '@berth/orchestrator/modal';

describe('planRollout', () => {
  /** Steps a pool of `target` outdated standbys to all-current, starting what planReplenish asks (each start becomes ready before the next pass). */
  function rollout(target: number, maxSurge: number) {
    let current = 0;
    let outdated = target;
    let peak = target;
    for (let pass = 0; pass < 10 * target && outdated > 0; pass++) {
      const step = planRollout({ target, current, outdated, maxSurge });
      outdated -= step.retire;
      const created = planReplenish({ target, ready: step.countedReady, starting: 0, consecutiveFailures: 0, lastFailureAtMs: null, stopped: false }, { maxConcurrentStarts: 100, backoffBaseMs: 1, backoffMaxMs: 1 }, 0).create;
      peak = Math.max(peak, current + outdated + created);
      expect(current + outdated, 'never below the pool size').toBeGreaterThanOrEqual(target);
      current += created;
    }
    return { current, outdated, peak };
  }

  test('all outdated: maxSurge replacements boot beside them, nothing is retired yet', () => {
    expect(planRollout({ target: 3, current: 0, outdated: 3, maxSurge: 1 })).toEqual({ retire: 0, countedReady: 2 });
    expect(planRollout({ target: 3, current: 0, outdated: 3, maxSurge: 2 })).toEqual({ retire: 0, countedReady: 1 });
  });

  test('an outdated standby goes once a current one stands in for it', () => {
    expect(planRollout({ target: 3, current: 1, outdated: 3, maxSurge: 1 })).toEqual({ retire: 1, countedReady: 2 });
    expect(planRollout({ target: 3, current: 3, outdated: 2, maxSurge: 1 })).toEqual({ retire: 2, countedReady: 3 });
  });

  test('after a claim took a standby, the pool refills without retiring', () => {
    expect(planRollout({ target: 3, current: 1, outdated: 1, maxSurge: 1 })).toEqual({ retire: 0, countedReady: 1 });
  });

  test('no outdated standbys: the plain pool', () => {
    expect(planRollout({ target: 3, current: 2, outdated: 0, maxSurge: 1 })).toEqual({ retire: 0, countedReady: 2 });
  });

  test.each([[3, 1], [5, 1], [5, 2], [4, 4]])('a pool of %i with maxSurge %i ends all current, never above size + surge', (target, maxSurge) => {
    expect(rollout(target, maxSurge)).toEqual({ current: target, outdated: 0, peak: target + maxSurge });
  });
});

describe('ModalStandbyPool.take', () => {
  const NEW = 'aaaaaaaaaaaaaaaa';
  const OLD = 'bbbbbbbbbbbbbbbb';
  const KEY = 'modal/app/default';

  function poolOver(registry: MemoryStandbyRegistry, discarded: string[]) {
    const deps = {
      platform: undefined as never, // take() never reaches Modal
      registry,
      clock: { now: () => 1_000_000, schedule: () => () => undefined },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      metrics: undefined as never,
      policy: { maxConcurrentStarts: 1, backoffBaseMs: 1, backoffMaxMs: 1 },
      healthTimeoutMs: 1000,
      recycleBeforeMs: 60_000,
      maintenanceIntervalMs: 1000,
      maxSurge: 1,
      discard: async (sandboxId: string) => void discarded.push(sandboxId),
    } as unknown as StandbyPoolDeps;
    return new ModalStandbyPool({ name: 'default', poolSize: 3 }, { poolKey: 'default', registryKey: KEY, specHash: NEW }, 3600_000, () => { throw new Error('no launches here'); }, deps);
  }

  const add = (registry: MemoryStandbyRegistry, sandboxId: string, specHash: string, expiresAtMs = 10_000_000) =>
    registry.addStandby(KEY, { sandboxId, data: encodeStandbyData({ url: `http://${sandboxId}`, authToken: 't', createdAtMs: 0, expiresAtMs, specHash }) });

  test('takes every current standby before any outdated one, although the outdated ones are older', async () => {
    const registry = new MemoryStandbyRegistry();
    await add(registry, 'old-1', OLD);
    await add(registry, 'old-2', OLD);
    await add(registry, 'new-1', NEW);
    await add(registry, 'new-2', NEW);
    const pool = poolOver(registry, []);
    const taken = [await pool.take(), await pool.take()].map((t) => t?.specHash);
    expect(taken).toEqual([NEW, NEW]);
    // With no current one left, an outdated standby still beats a cold start.
    expect((await pool.take())?.specHash).toBe(OLD);
  });

  test('concurrent takes never share a standby and take the current ones first', async () => {
    const registry = new MemoryStandbyRegistry();
    for (let i = 0; i < 4; i++) await add(registry, `old-${i}`, OLD);
    for (let i = 0; i < 4; i++) await add(registry, `new-${i}`, NEW);
    const pool = poolOver(registry, []);
    const taken = await Promise.all(Array.from({ length: 4 }, () => pool.take()));
    expect(new Set(taken.map((t) => t?.sandboxId)).size).toBe(4);
    expect(taken.every((t) => t?.specHash === NEW)).toBe(true);
  });

  test('an expiring standby is removed and discarded, never handed out', async () => {
    const registry = new MemoryStandbyRegistry();
    const discarded: string[] = [];
    await add(registry, 'expiring', NEW, 1_000_000 + 30_000);
    await add(registry, 'old-fine', OLD);
    const pool = poolOver(registry, discarded);
    expect((await pool.take())?.sandboxId).toBe('old-fine');
    expect(discarded).toEqual(['expiring']);
    expect(await registry.listStandbys(KEY)).toEqual([]);
  });
});
