// When a failed webhook attempt is tried again, and when berth gives up. Pure; the dispatcher
// (webhook-dispatcher.ts) applies it. Exponential backoff with jitter: a receiver that was down
// is not hit by every queued delivery in the same second when it comes back.

export interface RetryPolicy {
  /** Attempts in all, the first included. Default 22: with the defaults below, the last comes about 23 h after the first. */
  maxAttempts: number;
  /** Delay after the first failed attempt, in ms; doubles per attempt. Default 5 000. */
  baseDelayMs: number;
  /** Longest delay between two attempts, in ms. Default 2 h: a receiver down for a day still
   *  gets ten chances after it comes back, and nobody waits half a day for the next try. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = { maxAttempts: 22, baseDelayMs: 5_000, maxDelayMs: 2 * 3600_000 };

/** Jitter spreads each delay over ±20 %, enough to break up a burst, small enough to keep the schedule. */
const JITTER = 0.2;

/**
 * The wait before attempt `failedAttempt + 1`, or null when `failedAttempt` was the last one.
 * `random` is in [0, 1) (Math.random; tests pass a constant).
 */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number | null {
  if (failedAttempt >= policy.maxAttempts) return null;
  const exponential = policy.baseDelayMs * 2 ** Math.min(failedAttempt - 1, 40);
  const capped = Math.min(exponential, policy.maxDelayMs);
  return Math.max(0, Math.round(capped * (1 - JITTER + 2 * JITTER * random())));
}
