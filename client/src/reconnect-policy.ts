// When a broken event stream tries again, and when it gives up: exponential backoff with jitter
// from the server's `retry:` (or initialDelayMs), bounded by maxDelayMs and maxRetries
// consecutive failures; a Retry-After is waited out only when it fits under maxDelayMs. Pure,
// except the abortable sleep; event-stream.ts applies it.

import type { BerthApiError } from './errors.js';

export interface ReconnectOptions {
  /**
   * Consecutive failed attempts before the stream gives up with the last error. Default 5. A
   * connection that delivers a frame resets the count. 0 turns reconnecting off.
   */
  maxRetries?: number;
  /** First delay in ms when the server sent no `retry:`; it doubles per consecutive failure. Default 500. */
  initialDelayMs?: number;
  /**
   * Longest delay in ms. Default 30 000. A 429/503 whose Retry-After is longer is not waited
   * for: the stream ends with that error (a budget refusal can say hours).
   */
  maxDelayMs?: number;
}

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = { maxRetries: 5, initialDelayMs: 500, maxDelayMs: 30_000 };

/** Statuses worth a reconnect: timeouts, rate limits and a gateway or its backend briefly away. */
export const RETRIABLE_STATUS: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/**
 * The delay before attempt `failures` (1-based), or undefined when the stream should give up.
 * `retryMs` is the server's `retry:`; `random` is injectable for tests.
 */
export function reconnectDelayMs(policy: Required<ReconnectOptions>, failures: number, retryMs: number | undefined, error: BerthApiError, random: () => number = Math.random): number | undefined {
  if (failures > policy.maxRetries) return undefined;
  const backoff = Math.min(policy.maxDelayMs, (retryMs ?? policy.initialDelayMs) * 2 ** (failures - 1));
  // Jitter (half to all of the backoff): readers cut together by one gateway restart do not return together.
  const delayMs = Math.round(backoff * (0.5 + random() / 2));
  if (error.retryAfterS === undefined) return delayMs;
  if (error.retryAfterS * 1000 > policy.maxDelayMs) return undefined;
  return Math.max(delayMs, error.retryAfterS * 1000);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
