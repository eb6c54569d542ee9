// `berth start`'s pool progress: a line per change of the ready counts, "running" only once a
// standby is ready (or no profile keeps one), and Ctrl-C while warming ends the wait.
import { expect, test } from 'vitest';
import type { PoolStatus } from '@berth/orchestrator';
import { firstStandbyReady, progressLine, waitForFirstStandby } from '@berth/cli/testing';

const pool = (profile: string, ready: number, target: number): PoolStatus => ({ profile, target, ready, starting: target - ready, claimed: 0, coldStarts: 0, warmClaims: 0 });

test('the progress line shows ready/target per profile', () => {
  expect(progressLine([pool('default', 1, 2), pool('gpu', 0, 1)])).toBe('pool: default 1/2 ready, gpu 0/1 ready');
});

test('usable once any standby is ready, or when no profile keeps one', () => {
  expect(firstStandbyReady([pool('default', 0, 2), pool('gpu', 0, 1)])).toBe(false);
  expect(firstStandbyReady([pool('default', 0, 2), pool('gpu', 1, 1)])).toBe(true);
  expect(firstStandbyReady([pool('default', 0, 0)])).toBe(true);
});

test('prints each change once, retries a failing read, and resolves true at the first ready standby', async () => {
  const reads: Array<PoolStatus[] | Error> = [[pool('default', 0, 2)], [pool('default', 0, 2)], new Error('api down'), new Error('api down'), [pool('default', 1, 2)]];
  const lines: string[] = [];
  const ready = await waitForFirstStandby(
    async () => {
      const next = reads.shift();
      if (next === undefined) throw new Error('read after ready');
      if (next instanceof Error) throw next;
      return next;
    },
    (line) => lines.push(line),
    new AbortController().signal,
  );
  expect(ready).toBe(true);
  expect(reads).toEqual([]);
  expect(lines).toEqual(['pool: default 0/2 ready', 'pool: cannot read the pools yet (api down); retrying', 'pool: default 1/2 ready']);
});

test('an abort (Ctrl-C) while warming resolves false', async () => {
  const stop = new AbortController();
  let reads = 0;
  const waiting = waitForFirstStandby(
    async () => {
      if (++reads === 2) stop.abort();
      return [pool('default', 0, 1)];
    },
    () => undefined,
    stop.signal,
  );
  expect(await waiting).toBe(false);
});
