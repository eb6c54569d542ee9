// WarmPool: the standbys of one profile, kept at the profile's poolSize. It owns the FIFO of
// ready standbys, the bounded background starts that refill it, the failure backoff and the
// per-profile claim counters. It is platform-free: a StandbyFactory does the I/O (spawn a
// process, create a pod, create a Modal sandbox), and the decision of how many to start comes
// from replenish-plan.ts. It does not bind standbys to sessions; its backend does.
//
// Concurrency: take() is synchronous, so within one process two claims can never receive the
// same standby. Cross-replica atomicity (Kubernetes, Modal) is the backend's job, on top of this.

import type { PoolStatus } from '../backend.js';
import type { SandboxProfile } from '../profile.js';
import { systemClock, type Clock } from './clock.js';
import { silentLogger, type Logger } from './logger.js';
import { DEFAULT_REPLENISH_POLICY, planReplenish, type ReplenishPolicy } from './replenish-plan.js';

export interface StandbyFactory<S> {
  /**
   * Starts one standby and resolves only once it is ready to serve (its agent answered /health).
   * When it rejects, or when `signal` aborts (pool stopping), it must clean up what it started.
   */
  create(profile: SandboxProfile, signal: AbortSignal): Promise<S>;
  /** Removes one standby. Idempotent; never rejects for an already-gone standby. */
  destroy(standby: S): Promise<void>;
}

export type ClaimRecord = 'warm' | 'cold' | 'failed';

/**
 * How long after a claim its replacement starts, ms. 1000: meanwhile the claim's session
 * bootstraps and runs its first turn, the turn a warm pool exists to speed up, and a
 * replacement's start (on the local tier: a fork of the gateway, the jail, Node's boot and the
 * CLI's pre-start, ~1.5 s of CPU) would compete with it for the same cores. Measured on 2 quiet
 * cores (first-turn bench): started at the claim, a new session's first assistant message took
 * ~1.5× a follow-up's; started after this delay, 1.1×. Pool depth recovers this much later; how
 * many start at once is unchanged.
 */
export const REFILL_DELAY_MS = 1000;

export interface WarmPoolOptions<S> {
  profile: SandboxProfile;
  factory: StandbyFactory<S>;
  policy?: Partial<ReplenishPolicy>;
  clock?: Clock;
  logger?: Logger;
  /** Called with the ready count whenever it changes (drives the standby_ready gauge). */
  onReadyChange?: (ready: number) => void;
  /** How long after a take() the replacement starts, ms. Default REFILL_DELAY_MS. */
  refillDelayMs?: number;
}

export class WarmPool<S> {
  readonly profile: SandboxProfile;
  readonly #factory: StandbyFactory<S>;
  readonly #policy: ReplenishPolicy;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onReadyChange: (ready: number) => void;
  readonly #refillDelayMs: number;
  readonly #ready: S[] = [];
  readonly #inflight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #consecutiveFailures = 0;
  #lastFailureAtMs: number | null = null;
  #counters = { warm: 0, cold: 0, failed: 0 };
  #started = false;
  #stopped = false;
  #cancelKick: (() => void) | null = null;
  #kickAtMs = 0;
  #cancelWake: (() => void) | null = null;

  constructor(options: WarmPoolOptions<S>) {
    this.profile = options.profile;
    this.#factory = options.factory;
    this.#policy = { ...DEFAULT_REPLENISH_POLICY, ...options.policy };
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#onReadyChange = options.onReadyChange ?? (() => {});
    this.#refillDelayMs = options.refillDelayMs ?? REFILL_DELAY_MS;
  }

  /** Begins filling the pool in the background. Idempotent; a stopped pool stays stopped. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#replenish();
  }

  /**
   * Hands out the oldest ready standby (FIFO: the one that waited longest, so none ages out while
   * newer ones serve), or undefined on a pool miss. Synchronous, hence atomic within the process.
   * Its replacement starts refillDelayMs later, past the claim and its session's first turn.
   */
  take(): S | undefined {
    const standby = this.#ready.shift();
    if (standby !== undefined) {
      this.#onReadyChange(this.#ready.length);
      this.#replenishIn(this.#refillDelayMs);
    }
    return standby;
  }

  /** Drops a ready standby that died or failed; the pool starts a replacement. False if not held. */
  remove(standby: S): boolean {
    const index = this.#ready.indexOf(standby);
    if (index < 0) return false;
    this.#ready.splice(index, 1);
    this.#onReadyChange(this.#ready.length);
    this.#replenishIn(0);
    return true;
  }

  /** Counts one claim of this profile by how it was served. */
  recordClaim(outcome: ClaimRecord): void {
    this.#counters[outcome] += 1;
  }

  get failedClaims(): number {
    return this.#counters.failed;
  }

  /** Ready standbys, oldest first (a copy: sweeping code may inspect, never mutate). */
  readyStandbys(): readonly S[] {
    return [...this.#ready];
  }

  /** `claimed` comes from the backend, which alone knows its session bindings. */
  status(claimed = 0): PoolStatus {
    return {
      profile: this.profile.name,
      target: this.profile.poolSize,
      ready: this.#ready.length,
      starting: this.#inflight.size,
      claimed,
      coldStarts: this.#counters.cold,
      warmClaims: this.#counters.warm,
    };
  }

  /** Stops refilling, aborts starts in flight, and resolves once every standby is destroyed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelKick?.();
    this.#cancelWake?.();
    this.#abort.abort();
    await Promise.allSettled([...this.#inflight]);
    const rest = this.#ready.splice(0);
    if (rest.length > 0) this.#onReadyChange(0);
    await Promise.allSettled(rest.map((standby) => this.#factory.destroy(standby)));
  }

  /** Schedules one replenish pass within `delayMs`; an earlier request replaces a later one. */
  #replenishIn(delayMs: number): void {
    if (!this.#started || this.#stopped) return;
    const atMs = this.#clock.now() + delayMs;
    if (this.#cancelKick && this.#kickAtMs <= atMs) return;
    this.#cancelKick?.();
    this.#kickAtMs = atMs;
    this.#cancelKick = this.#clock.schedule(() => {
      this.#cancelKick = null;
      this.#replenish();
    }, delayMs);
  }

  #replenish(): void {
    if (!this.#started) return;
    const nowMs = this.#clock.now();
    const decision = planReplenish(
      {
        target: this.profile.poolSize,
        ready: this.#ready.length,
        starting: this.#inflight.size,
        consecutiveFailures: this.#consecutiveFailures,
        lastFailureAtMs: this.#lastFailureAtMs,
        stopped: this.#stopped,
      },
      this.#policy,
      nowMs,
    );
    for (let i = 0; i < decision.create; i += 1) this.#startOne();
    if (decision.retryAtMs !== null && !this.#cancelWake) {
      this.#cancelWake = this.#clock.schedule(() => {
        this.#cancelWake = null;
        this.#replenish();
      }, decision.retryAtMs - nowMs);
    }
  }

  #startOne(): void {
    const run: Promise<void> = Promise.resolve()
      .then(() => this.#factory.create(this.profile, this.#abort.signal))
      .then(
        async (standby) => {
          this.#consecutiveFailures = 0;
          this.#lastFailureAtMs = null;
          // Stopped while it booted: it must not outlive stop().
          if (this.#stopped) return void (await this.#factory.destroy(standby).catch(() => {}));
          this.#ready.push(standby);
          this.#onReadyChange(this.#ready.length);
        },
        (error: unknown) => {
          if (this.#stopped) return;
          this.#consecutiveFailures += 1;
          this.#lastFailureAtMs = this.#clock.now();
          this.#logger.warn(
            { profile: this.profile.name, consecutiveFailures: this.#consecutiveFailures, err: describe(error) },
            'standby start failed; backing off',
          );
        },
      )
      .finally(() => {
        this.#inflight.delete(run);
        if (!this.#stopped) this.#replenish();
      });
    this.#inflight.add(run);
  }
}

/** Code and message only: platform payloads stay out of logs. */
function describe(error: unknown): string {
  if (error instanceof Error) return 'code' in error ? `${String(error.code)}: ${error.message}` : error.message;
  return String(error);
}
