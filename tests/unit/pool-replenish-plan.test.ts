// Pins the warm pool's pure decisions (orchestrator/src/pool/replenish-plan.ts): how many
// standbys start at an instant, the concurrency bound, and the failure backoff.
import { describe, expect, test } from 'vitest';
import { backoffDelayMs, DEFAULT_REPLENISH_POLICY, planReplenish, type ReplenishState } from '@berth/orchestrator';

const policy = DEFAULT_REPLENISH_POLICY;
const state = (overrides: Partial<ReplenishState>): ReplenishState => ({
  target: 5, ready: 0, starting: 0, consecutiveFailures: 0, lastFailureAtMs: null, stopped: false, ...overrides,
});

describe('planReplenish', () => {
  test('an empty pool starts at most maxConcurrentStarts (default 2) at once', () => {
    expect(policy.maxConcurrentStarts).toBe(2);
    expect(planReplenish(state({}), policy, 0)).toEqual({ create: 2, retryAtMs: null });
  });

  test('starts in flight use up the concurrency bound', () => {
    expect(planReplenish(state({ starting: 1 }), policy, 0).create).toBe(1);
    expect(planReplenish(state({ starting: 2 }), policy, 0).create).toBe(0);
  });

  test('never starts more than the deficit', () => {
    expect(planReplenish(state({ ready: 4 }), policy, 0).create).toBe(1);
    expect(planReplenish(state({ target: 1 }), { ...policy, maxConcurrentStarts: 8 }, 0).create).toBe(1);
  });

  test('a full or over-full pool, a size-0 pool and a stopped pool start nothing', () => {
    expect(planReplenish(state({ ready: 5 }), policy, 0).create).toBe(0);
    expect(planReplenish(state({ ready: 3, starting: 3 }), policy, 0).create).toBe(0);
    expect(planReplenish(state({ target: 0 }), policy, 0).create).toBe(0);
    expect(planReplenish(state({ stopped: true }), policy, 0)).toEqual({ create: 0, retryAtMs: null });
  });

  test('after a failure it waits out the backoff, then probes with one start at a time', () => {
    const failed = state({ consecutiveFailures: 1, lastFailureAtMs: 10_000 });
    expect(planReplenish(failed, policy, 10_499)).toEqual({ create: 0, retryAtMs: 10_500 });
    expect(planReplenish(failed, policy, 10_500)).toEqual({ create: 1, retryAtMs: null });
    expect(planReplenish({ ...failed, starting: 1 }, policy, 20_000).create).toBe(0);
  });

  test('the backoff doubles per failure in a row and is capped', () => {
    expect(backoffDelayMs(0, policy)).toBe(0);
    expect(backoffDelayMs(1, policy)).toBe(500);
    expect(backoffDelayMs(2, policy)).toBe(1000);
    expect(backoffDelayMs(4, policy)).toBe(4000);
    expect(backoffDelayMs(50, policy)).toBe(30_000);
    expect(backoffDelayMs(10_000, policy)).toBe(30_000);
    const failedOften = state({ consecutiveFailures: 3, lastFailureAtMs: 0 });
    expect(planReplenish(failedOften, policy, 1999).retryAtMs).toBe(2000);
  });
});
