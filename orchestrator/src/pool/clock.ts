// Time as an injected dependency: the warm pool reads `now()` for its failure backoff and
// schedules its own wake-ups through `schedule()`, so unit tests drive both with a manual clock
// instead of real timers.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `delayMs`; returns a cancel function. Timers must not keep the process alive. */
  schedule(fn: () => void, delayMs: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, delayMs) {
    // unref: a pending pool wake-up is never a reason for the gateway process to stay up.
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
