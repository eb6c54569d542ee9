// Benchmark helpers: interleaved rounds of a candidate and its baseline (A, B, A, B, …) so both
// see the same machine noise, per-round p50/p99, medians across rounds, and one JSON line per
// benchmark on stdout. Benchmarks report ratios; nothing here asserts a timing.

import v8 from 'node:v8';
import vm from 'node:vm';
import { performance } from 'node:perf_hooks';
import type { SandboxBackend } from '@berth/orchestrator';

/** Rounds per benchmark: BERTH_BENCH_ROUNDS (CI sets 5), default 9. */
export const ROUNDS = Math.max(5, Number(process.env.BERTH_BENCH_ROUNDS || 9));

export type Sample = () => Promise<number>;

/** Wraps an async operation into a sample returning its duration in ms. */
export function timed(operation: () => Promise<unknown>): Sample {
  return async () => {
    const start = performance.now();
    await operation();
    return performance.now() - start;
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export interface ArmResult {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

export interface Comparison {
  bench: string;
  candidate: ArmResult;
  baseline: ArmResult;
  /** candidate p50 / baseline p50 (medians of per-round values). */
  ratioP50: number;
  ratioP99: number;
  rounds: number;
}

/** Runs `perRound` samples of each arm per round, interleaved, for ROUNDS rounds. */
export async function compare(bench: string, candidate: Sample, baseline: Sample, perRound = 5, extra: Record<string, unknown> = {}): Promise<Comparison> {
  const rounds: Array<{ a: number[]; b: number[] }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < perRound; i++) {
      a.push(await candidate());
      b.push(await baseline());
    }
    rounds.push({ a, b });
  }
  const arm = (pick: (x: { a: number[]; b: number[] }) => number[]): ArmResult => ({
    p50Ms: round(median(rounds.map((x) => percentile(pick(x), 50)))),
    p99Ms: round(median(rounds.map((x) => percentile(pick(x), 99)))),
    samples: rounds.reduce((n, x) => n + pick(x).length, 0),
  });
  const result: Comparison = { bench, candidate: arm((x) => x.a), baseline: arm((x) => x.b), ratioP50: 0, ratioP99: 0, rounds: ROUNDS };
  result.ratioP50 = round(result.candidate.p50Ms / result.baseline.p50Ms);
  result.ratioP99 = round(result.candidate.p99Ms / result.baseline.p99Ms);
  console.log(JSON.stringify({ ...result, ...extra }));
  return result;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Session ids stay unique across every claim sample of a file. */
let claimedSessions = 0;

/**
 * A sample that times one claim of a new session on `profile` (named for the outcome it must
 * have: a 'warm' profile keeps a pool, a 'cold' one none), then releases it untimed. `beforeWarm`
 * waits until the pool has a ready standby again.
 */
export function claimSample(backend: () => SandboxBackend, profile: 'warm' | 'cold', beforeWarm: () => Promise<void>): Sample {
  return async () => {
    if (profile === 'warm') await beforeWarm();
    const session = `bench-${profile}-${++claimedSessions}`;
    const start = performance.now();
    const claimed = await backend().claim(session, profile);
    const ms = performance.now() - start;
    if (claimed.outcome !== profile) throw new Error(`expected a ${profile} claim, got ${claimed.outcome}`);
    await backend().release(session);
    return ms;
  };
}

/**
 * Heap settled for an RSS reading: a full collection, one event-loop turn (weak callbacks and
 * finalizers queued by it run), and a second collection. Waits on the loop, not on a clock.
 */
export async function settleHeap(): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
}
