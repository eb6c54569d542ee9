// Pure decision logic of a warm pool: given what the pool holds now, how many standbys to start
// at this instant, and when to look again. No I/O and no timers, so unit tests pin every branch
// with plain numbers. The I/O side (starting, tracking, destroying standbys) is warm-pool.ts.

export interface ReplenishPolicy {
  /**
   * Standbys started at once per profile. Default 2. Booting an agent (Node + Agent SDK import) is
   * CPU-bound for about a second; more parallel boots only slow each other down on small hosts
   * (2 cores here), delay the cold start a waiting claim is paying for, and on Kubernetes/Modal
   * turn one claim burst into an API burst. Cold starts for claims are never bounded by this.
   */
  maxConcurrentStarts: number;
  /** First delay after a failed start, in ms. Default 500: a crash-looping image costs ~2 starts/s at most. */
  backoffBaseMs: number;
  /** Ceiling of the doubling backoff, in ms. Default 30 000: a fixed platform is noticed within 30 s. */
  backoffMaxMs: number;
}

export const DEFAULT_REPLENISH_POLICY: ReplenishPolicy = Object.freeze({
  maxConcurrentStarts: 2,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
});

export interface ReplenishState {
  /** Standbys the pool aims to keep (the profile's poolSize). */
  target: number;
  /** Standbys healthy and unclaimed. */
  ready: number;
  /** Standbys being started (not yet healthy). */
  starting: number;
  /** Starts that failed in a row; the next success resets it to 0. */
  consecutiveFailures: number;
  /** When the latest failure happened (ms epoch), or null when none. */
  lastFailureAtMs: number | null;
  /** A stopped pool never starts anything. */
  stopped: boolean;
}

export interface ReplenishDecision {
  /** Standbys to start now. */
  create: number;
  /** When the pool is short but must wait (backoff), the instant (ms epoch) to decide again; else null. */
  retryAtMs: number | null;
}

/** Backoff after `failures` failed starts in a row: 0, then base, 2×base, 4×base … capped at max. */
export function backoffDelayMs(failures: number, policy: ReplenishPolicy): number {
  if (failures <= 0) return 0;
  // Cap the exponent: 2 ** 40 already exceeds any sane max, and larger ones lose precision.
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(failures - 1, 40));
}

export function planReplenish(state: ReplenishState, policy: ReplenishPolicy, nowMs: number): ReplenishDecision {
  const none: ReplenishDecision = { create: 0, retryAtMs: null };
  if (state.stopped) return none;
  const deficit = state.target - state.ready - state.starting;
  if (deficit <= 0) return none;
  let limit = policy.maxConcurrentStarts;
  if (state.consecutiveFailures > 0) {
    const retryAtMs = (state.lastFailureAtMs ?? nowMs) + backoffDelayMs(state.consecutiveFailures, policy);
    if (nowMs < retryAtMs) return { create: 0, retryAtMs };
    // While starts keep failing, probe with one start at a time instead of a full burst.
    limit = 1;
  }
  return { create: Math.max(0, Math.min(deficit, limit - state.starting)), retryAtMs: null };
}
