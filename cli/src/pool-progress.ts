// What `berth start` shows while its warm pools fill: one line per change of the ready counts
// ("pool: default 0/2 ready"), and when to say "running": once the first standby of any profile
// is ready, so the first message a newcomer sends is not a cold start. Reads the backend's
// pool() on an interval because the SandboxBackend port reports state, not events.

import type { PoolStatus } from '@berth/orchestrator';

/** How often the pools are read while warming, in ms. 250: a change shows within a blink; a
 *  pool() read of the local backend is an in-memory count. */
export const POOL_PROGRESS_INTERVAL_MS = 250;

/** "pool: default 1/2 ready, gpu 0/1 ready" */
export function progressLine(pools: readonly PoolStatus[]): string {
  return `pool: ${pools.map((p) => `${p.profile} ${p.ready}/${p.target} ready`).join(', ')}`;
}

/** The pools are usable: a standby is ready somewhere, or no profile keeps any (cold starts only). */
export function firstStandbyReady(pools: readonly PoolStatus[]): boolean {
  return pools.some((p) => p.ready > 0) || pools.every((p) => p.target === 0);
}

/**
 * Resolves true once firstStandbyReady holds, printing a progress line on each change; resolves
 * false if `signal` aborts first. A failing pool() read is printed once and retried.
 */
export async function waitForFirstStandby(pool: () => Promise<PoolStatus[]>, print: (line: string) => void, signal: AbortSignal): Promise<boolean> {
  let last = '';
  let warned = false;
  while (!signal.aborted) {
    try {
      const pools = await pool();
      const line = progressLine(pools);
      if (line !== last) print((last = line));
      if (firstStandbyReady(pools)) return true;
    } catch (error) {
      if (!warned) print(`pool: cannot read the pools yet (${(error as Error).message}); retrying`);
      warned = true;
    }
    await new Promise<void>((resolve) => {
      const abort = (): void => (clearTimeout(timer), resolve());
      const timer = setTimeout(() => (signal.removeEventListener('abort', abort), resolve()), POOL_PROGRESS_INTERVAL_MS);
      signal.addEventListener('abort', abort, { once: true });
    });
  }
  return false;
}
