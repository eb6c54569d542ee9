// Pins WarmPool (orchestrator/src/pool/warm-pool.ts) with a fake StandbyFactory and a manual
// clock: bounded refill, ready-only-when-created, FIFO take, refill a delay after a claim (past
// its session's first turn), failure backoff, replacement of dead standbys, and a stop that leaves
// nothing behind.
import { describe, expect, test } from 'vitest';
import type { Clock } from '@berth/orchestrator';
import { REFILL_DELAY_MS, WarmPool, type StandbyFactory } from '@berth/orchestrator';
import type { SandboxProfile } from '@berth/orchestrator';

class ManualClock implements Clock {
  nowMs = 1_000_000;
  #timers: { atMs: number; fn: () => void }[] = [];
  now(): number {
    return this.nowMs;
  }
  schedule(fn: () => void, delayMs: number): () => void {
    const timer = { atMs: this.nowMs + delayMs, fn };
    this.#timers.push(timer);
    return () => {
      const index = this.#timers.indexOf(timer);
      if (index >= 0) this.#timers.splice(index, 1);
    };
  }
  /** Settles what is pending, moves time forward, runs every timer now due (and ones they schedule). */
  async advance(ms: number): Promise<void> {
    await settle();
    this.nowMs += ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => t.atMs <= this.nowMs).sort((a, b) => a.atMs - b.atMs)[0];
      if (!due) break;
      this.#timers.splice(this.#timers.indexOf(due), 1);
      due.fn();
    }
  }
}

/** Lets every pending promise chain run (several microtask hops per standby). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Standby { id: number }

class FakeFactory implements StandbyFactory<Standby> {
  created = 0;
  inFlight = 0;
  maxInFlight = 0;
  ignoreAbort = false;
  destroyed: number[] = [];
  readonly pending: { id: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  create(_profile: SandboxProfile, signal: AbortSignal): Promise<Standby> {
    const id = ++this.created;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<Standby>((resolve, reject) => {
      const done = (): void => void (this.inFlight -= 1);
      this.pending.push({ id, resolve: () => (done(), resolve({ id })), reject: (e) => (done(), reject(e)) });
      if (!this.ignoreAbort) signal.addEventListener('abort', () => (done(), reject(new Error('aborted'))));
    });
  }
  async destroy(standby: Standby): Promise<void> {
    this.destroyed.push(standby.id);
  }
  succeed(): void {
    this.pending.shift()!.resolve();
  }
  fail(): void {
    this.pending.shift()!.reject(new Error('start failed'));
  }
}

function newPool(poolSize: number) {
  const clock = new ManualClock();
  const factory = new FakeFactory();
  const readyCounts: number[] = [];
  const pool = new WarmPool<Standby>({ profile: { name: 'p', poolSize }, factory, clock, onReadyChange: (n) => readyCounts.push(n) });
  return { clock, factory, pool, readyCounts };
}

describe('WarmPool', () => {
  test('fills to target with at most 2 starts in flight; a standby is ready only once created', async () => {
    const { clock, factory, pool, readyCounts } = newPool(5);
    pool.start();
    await clock.advance(0);
    expect(factory.created).toBe(2);
    expect(pool.status()).toMatchObject({ target: 5, ready: 0, starting: 2 });
    while (pool.status().ready < 5) {
      factory.succeed();
      await clock.advance(0);
    }
    expect(factory.created).toBe(5);
    expect(factory.maxInFlight).toBe(2);
    expect(pool.status()).toMatchObject({ ready: 5, starting: 0 });
    expect(readyCounts).toEqual([1, 2, 3, 4, 5]);
  });

  test('take() is FIFO and synchronous; the replacement starts REFILL_DELAY_MS after it, past the claim and its first turn', async () => {
    const { clock, factory, pool } = newPool(2);
    pool.start();
    await clock.advance(0);
    factory.succeed();
    factory.succeed();
    await clock.advance(0);
    expect(factory.created).toBe(2);
    expect(pool.take()).toEqual({ id: 1 });
    // The claim still probes and binds its standby, then its session's first turn runs: no
    // spawn may compete with them yet.
    await clock.advance(REFILL_DELAY_MS - 1);
    expect(factory.created).toBe(2);
    expect(pool.take()).toEqual({ id: 2 });
    expect(pool.take()).toBeUndefined();
    // The second take() does not push the first replacement back: the earlier deadline stands.
    await clock.advance(1);
    expect(factory.created).toBe(4);
  });

  test('refillDelayMs sets the delay (0: at once)', async () => {
    const clock = new ManualClock();
    const factory = new FakeFactory();
    const pool = new WarmPool<Standby>({ profile: { name: 'p', poolSize: 1 }, factory, clock, refillDelayMs: 0 });
    pool.start();
    await clock.advance(0);
    factory.succeed();
    await clock.advance(0);
    pool.take();
    await clock.advance(0);
    expect(factory.created).toBe(2);
  });

  test('failed starts back off (500 ms, then doubling) and a success resets the backoff', async () => {
    const { clock, factory, pool } = newPool(1);
    pool.start();
    await clock.advance(0);
    factory.fail();
    await clock.advance(499);
    expect(factory.created).toBe(1);
    await clock.advance(1);
    expect(factory.created).toBe(2);
    factory.fail();
    await clock.advance(999);
    expect(factory.created).toBe(2);
    await clock.advance(1);
    expect(factory.created).toBe(3);
    factory.succeed();
    await clock.advance(0);
    expect(pool.status().ready).toBe(1);
    pool.take();
    await clock.advance(REFILL_DELAY_MS);
    expect(factory.created).toBe(4);
  });

  test('a removed (dead) standby is replaced; removing an unknown one is a no-op', async () => {
    const { clock, factory, pool } = newPool(1);
    pool.start();
    await clock.advance(0);
    factory.succeed();
    await clock.advance(0);
    const [standby] = pool.readyStandbys();
    expect(pool.remove({ id: 99 })).toBe(false);
    expect(pool.remove(standby!)).toBe(true);
    expect(pool.status().ready).toBe(0);
    await clock.advance(0);
    expect(factory.created).toBe(2);
  });

  test('claim counters feed the status', () => {
    const { pool } = newPool(0);
    pool.recordClaim('warm');
    pool.recordClaim('cold');
    pool.recordClaim('cold');
    pool.recordClaim('failed');
    expect(pool.status(3)).toEqual({ profile: 'p', target: 0, ready: 0, starting: 0, claimed: 3, coldStarts: 2, warmClaims: 1 });
    expect(pool.failedClaims).toBe(1);
  });

  test('a pool of size 0 never starts anything', async () => {
    const { clock, factory, pool } = newPool(0);
    pool.start();
    await clock.advance(60_000);
    expect(factory.created).toBe(0);
  });

  test('stop() aborts starts in flight, destroys ready standbys and late arrivals, and starts nothing after', async () => {
    const { clock, factory, pool } = newPool(3);
    pool.start();
    await clock.advance(0);
    factory.succeed();
    await clock.advance(0);
    expect(pool.status()).toMatchObject({ ready: 1, starting: 2 });
    await pool.stop();
    expect(factory.destroyed).toEqual([1]);
    expect(pool.status()).toMatchObject({ ready: 0, starting: 0 });
    await clock.advance(60_000);
    expect(factory.created).toBe(3);
  });

  test('a standby whose start ignores the abort is destroyed when it arrives, before stop() resolves', async () => {
    const { clock, factory, pool } = newPool(1);
    factory.ignoreAbort = true;
    pool.start();
    await clock.advance(0);
    let resolved = false;
    const stopped = pool.stop().then(() => (resolved = true));
    await settle();
    expect(resolved).toBe(false);
    factory.succeed();
    await stopped;
    expect(factory.destroyed).toEqual([1]);
    expect(pool.take()).toBeUndefined();
  });
});
