// The SandboxBackend contract, written once and run against every implementation
// (tests/integration/local-backend.test.ts, tests/kubernetes/*, tests/modal/*). It speaks only
// the port (orchestrator/src/backend.ts) and HTTP to the endpoints it hands out, so it assumes
// nothing about processes, pods or Modal sandboxes. It includes the races: concurrent claims of
// distinct sessions never share a standby; concurrent claims of one session get one sandbox.
//
// Usage:
//   runSandboxBackendContract({
//     name: 'LocalProcessBackend',
//     newBackend: async ({ profiles }) => new LocalProcessBackend({ profiles }),
//     skip: { stop_leaves_nothing: 'pods are cluster-owned; stop() keeps them for other replicas' },
//   });
// newBackend returns an UNSTARTED backend over an isolated world (its own fake API server,
// namespace or app), because pool counts are asserted exactly. It may add platform fields to the
// profiles (image, resources) but must keep their names and pool sizes. The suite starts every
// backend it opens and stops it when the test ends.

import { AGENT_AUTH_HEADER } from '@berth/protocol';
import { isSandboxError, type ClaimedSandbox, type PoolStatus, type SandboxBackend, type SandboxProfile } from '@berth/orchestrator';
import { describe, expect, test } from 'vitest';
import { waitFor } from '../fixtures/wait-for.js';

export type SandboxBackendContractCase =
  | 'fills_pool_on_start'
  | 'claim_endpoint_requires_token'
  | 'warm_claim_counted'
  | 'cold_claim_counted'
  | 'refills_after_claim'
  | 'race_distinct_sessions'
  | 'race_one_session'
  | 'release_unreachable_idempotent'
  | 'sweep_unowned'
  | 'claimed_at_from_claim'
  | 'stop_leaves_nothing'
  | 'unknown_profile';

export interface SandboxBackendContractOptions {
  /** Shown in the describe() title. */
  name: string;
  /** A fresh, unstarted backend keeping pools for exactly these profiles. */
  newBackend: (options: { profiles: SandboxProfile[] }) => Promise<SandboxBackend>;
  /** Cases this backend cannot honour, each with the reason (shown in the test title). */
  skip?: Partial<Record<SandboxBackendContractCase, string>>;
  /** Bound on each wait for pool state or endpoint shutdown, in ms. Default 30 000. */
  waitTimeoutMs?: number;
  /** Per-test timeout in ms; the race case gets twice this. Default 60 000. */
  testTimeoutMs?: number;
}

export const CONTRACT_PROFILE = 'contract';

/** GET /health on an endpoint: the HTTP status, or 'unreachable' when nothing answers. */
export async function healthStatus(url: string, token?: string): Promise<number | 'unreachable'> {
  try {
    const res = await fetch(new URL('/health', url), {
      headers: token === undefined ? {} : { [AGENT_AUTH_HEADER]: token },
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 'unreachable';
  }
}


export async function poolStatus(backend: SandboxBackend, profile = CONTRACT_PROFILE): Promise<PoolStatus> {
  const status = (await backend.pool()).find((s) => s.profile === profile);
  if (!status) throw new Error(`pool() has no entry for profile '${profile}'`);
  return status;
}

export function runSandboxBackendContract(options: SandboxBackendContractOptions): void {
  const waitMs = options.waitTimeoutMs ?? 30_000;
  const timeoutMs = options.testTimeoutMs ?? 60_000;

  const it = test.extend<{ open: (poolSize: number) => Promise<SandboxBackend> }>({
    // eslint-disable-next-line no-empty-pattern -- vitest reads fixture names from the pattern
    open: async ({}, use) => {
      const mine: SandboxBackend[] = [];
      await use(async (poolSize) => {
        const backend = await options.newBackend({ profiles: [{ name: CONTRACT_PROFILE, poolSize }] });
        mine.push(backend);
        await backend.start();
        return backend;
      });
      // Runs even when the test failed: no backend outlives its test.
      await Promise.allSettled(mine.map((backend) => backend.stop()));
    },
  });

  const filled = async (backend: SandboxBackend, ready: number): Promise<void> => {
    await waitFor(`${ready} ready standbys`, async () => (await poolStatus(backend)).ready >= ready, { timeoutMs: waitMs });
  };
  const stopsServing = async (sandbox: ClaimedSandbox): Promise<void> => {
    await waitFor(`${sandbox.sandboxId} to stop serving`, async () => (await healthStatus(sandbox.url, sandbox.authToken)) !== 200, { timeoutMs: waitMs });
  };

  function contractCase(id: SandboxBackendContractCase, title: string, body: (ctx: { open: (poolSize: number) => Promise<SandboxBackend> }) => Promise<void>, factor = 1): void {
    const reason = options.skip?.[id];
    if (reason !== undefined) test.skip(`${id}: ${title} (skipped: ${reason})`, () => {});
    else it(`${id}: ${title}`, body, timeoutMs * factor);
  }

  describe(`SandboxBackend contract: ${options.name}`, () => {
    contractCase('fills_pool_on_start', 'start() fills the pool to its target', async ({ open }) => {
      const backend = await open(2);
      expect(backend.profiles().map((p) => p.name)).toEqual([CONTRACT_PROFILE]);
      await filled(backend, 2);
      expect(await poolStatus(backend)).toMatchObject({ target: 2, ready: 2, starting: 0, claimed: 0, coldStarts: 0, warmClaims: 0 });
    });

    contractCase('claim_endpoint_requires_token', 'a claim returns a healthy endpoint that answers only with its token', async ({ open }) => {
      const backend = await open(1);
      const sandbox = await backend.claim('contract-auth', CONTRACT_PROFILE);
      expect(sandbox.sandboxId).not.toBe('');
      expect(sandbox.url).toMatch(/^https?:\/\//);
      expect(sandbox.profile).toBe(CONTRACT_PROFILE);
      // A guessable token is no control: at least 32 characters of it.
      expect(sandbox.authToken.length).toBeGreaterThanOrEqual(32);
      const res = await fetch(new URL('/health', sandbox.url), { headers: { [AGENT_AUTH_HEADER]: sandbox.authToken } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
      expect(await healthStatus(sandbox.url)).toBe(401);
      expect(await healthStatus(sandbox.url, `${sandbox.authToken.slice(0, -1)}x`)).toBe(401);
    });

    contractCase('warm_claim_counted', 'a claim with standbys ready is warm and counted warm', async ({ open }) => {
      const backend = await open(1);
      await filled(backend, 1);
      const sandbox = await backend.claim('contract-warm', CONTRACT_PROFILE);
      expect(sandbox.outcome).toBe('warm');
      expect(await poolStatus(backend)).toMatchObject({ warmClaims: 1, coldStarts: 0, claimed: 1 });
    });

    contractCase('cold_claim_counted', 'a claim from a pool of size 0 cold-starts and is counted cold', async ({ open }) => {
      const backend = await open(0);
      const sandbox = await backend.claim('contract-cold', CONTRACT_PROFILE);
      expect(sandbox.outcome).toBe('cold');
      expect(await healthStatus(sandbox.url, sandbox.authToken)).toBe(200);
      expect(await poolStatus(backend)).toMatchObject({ target: 0, ready: 0, coldStarts: 1, warmClaims: 0, claimed: 1 });
    });

    contractCase('refills_after_claim', 'the pool refills after a claim, and the refill serves the next claim warm', async ({ open }) => {
      const backend = await open(1);
      await filled(backend, 1);
      const first = await backend.claim('contract-refill-1', CONTRACT_PROFILE);
      await filled(backend, 1);
      const second = await backend.claim('contract-refill-2', CONTRACT_PROFILE);
      expect(first.outcome).toBe('warm');
      expect(second.outcome).toBe('warm');
      expect(second.sandboxId).not.toBe(first.sandboxId);
      expect(await poolStatus(backend)).toMatchObject({ warmClaims: 2, coldStarts: 0, claimed: 2 });
    });

    contractCase('race_distinct_sessions', '20 concurrent claims for 20 sessions from a pool of 5 get 20 distinct sandboxes', async ({ open }) => {
      const backend = await open(5);
      await filled(backend, 5);
      const sessions = Array.from({ length: 20 }, (_, i) => `contract-race-${i}`);
      const claims = await Promise.all(sessions.map((session) => backend.claim(session, CONTRACT_PROFILE)));
      expect(new Set(claims.map((c) => c.sandboxId)).size).toBe(20);
      expect(new Set(claims.map((c) => c.url)).size).toBe(20);
      expect(new Set(claims.map((c) => c.authToken)).size).toBe(20);
      const warm = claims.filter((c) => c.outcome === 'warm').length;
      // Five standbys were ready: some claims were served warm. Not "at most five": a standby the
      // pool refills while the burst is still claiming is legitimately warm too.
      expect(warm).toBeGreaterThanOrEqual(1);
      expect(await poolStatus(backend)).toMatchObject({ warmClaims: warm, coldStarts: 20 - warm, claimed: 20 });
      // Each endpoint is its own server: it answers its own token and refuses its neighbour's.
      const statuses = await Promise.all(claims.map(async (c, i) => [
        await healthStatus(c.url, c.authToken),
        await healthStatus(c.url, claims[(i + 1) % claims.length]!.authToken),
      ]));
      expect(statuses).toEqual(claims.map(() => [200, 401]));
    }, 2);

    contractCase('race_one_session', '10 concurrent claims for one session get one sandbox', async ({ open }) => {
      const backend = await open(1);
      await filled(backend, 1);
      const claims = await Promise.all(Array.from({ length: 10 }, () => backend.claim('contract-one', CONTRACT_PROFILE)));
      expect(new Set(claims.map((c) => c.sandboxId)).size).toBe(1);
      expect(new Set(claims.map((c) => `${c.url} ${c.authToken}`)).size).toBe(1);
      const status = await poolStatus(backend);
      expect(status.claimed).toBe(1);
      expect(status.warmClaims + status.coldStarts).toBe(1);
      // A later claim of the same session is still that sandbox.
      expect((await backend.claim('contract-one', CONTRACT_PROFILE)).sandboxId).toBe(claims[0]!.sandboxId);
    });

    contractCase('release_unreachable_idempotent', 'release stops the endpoint serving, is idempotent, and frees the session', async ({ open }) => {
      const backend = await open(1);
      const sandbox = await backend.claim('contract-release', CONTRACT_PROFILE);
      expect(await healthStatus(sandbox.url, sandbox.authToken)).toBe(200);
      await backend.release('contract-release');
      await stopsServing(sandbox);
      await expect(backend.release('contract-release')).resolves.toBeUndefined();
      await expect(backend.release('contract-never-claimed')).resolves.toBeUndefined();
      expect((await poolStatus(backend)).claimed).toBe(0);
      const again = await backend.claim('contract-release', CONTRACT_PROFILE);
      expect(again.sandboxId).not.toBe(sandbox.sandboxId);
    });

    contractCase('sweep_unowned', 'sweep removes sandboxes of sessions not owned, keeps owned ones and healthy standbys', async ({ open }) => {
      const backend = await open(1);
      await filled(backend, 1);
      const keep = await backend.claim('contract-keep', CONTRACT_PROFILE);
      const drop = await backend.claim('contract-drop', CONTRACT_PROFILE);
      const report = await backend.sweep(async (session) => session === 'contract-keep');
      expect(report.removed).toContain(drop.sandboxId);
      expect(report.removed).not.toContain(keep.sandboxId);
      await stopsServing(drop);
      expect(await healthStatus(keep.url, keep.authToken)).toBe(200);
      await filled(backend, 1);
      const second = await backend.sweep(async () => true);
      expect(second.removed).toEqual([]);
      expect(await poolStatus(backend)).toMatchObject({ claimed: 1, ready: 1 });
      expect((await backend.claim('contract-keep', CONTRACT_PROFILE)).sandboxId).toBe(keep.sandboxId);
    });

    contractCase('claimed_at_from_claim', "claimedAt is the claim's time, not the standby's boot", async ({ open }) => {
      const backend = await open(1);
      await filled(backend, 1);
      const before = Date.now();
      const sandbox = await backend.claim('contract-clock', CONTRACT_PROFILE);
      expect(sandbox.outcome).toBe('warm');
      expect(sandbox.claimedAt).toBeGreaterThanOrEqual(before);
      expect(sandbox.claimedAt).toBeLessThanOrEqual(Date.now());
    });

    contractCase('stop_leaves_nothing', 'stop() leaves nothing serving and refuses later claims', async ({ open }) => {
      const backend = await open(2);
      await filled(backend, 2);
      const sandbox = await backend.claim('contract-stop', CONTRACT_PROFILE);
      await backend.stop();
      expect(await healthStatus(sandbox.url, sandbox.authToken)).not.toBe(200);
      expect(await poolStatus(backend)).toMatchObject({ ready: 0, starting: 0 });
      await expect(backend.claim('contract-after-stop', CONTRACT_PROFILE)).rejects.toMatchObject({ code: 'stopped' });
      await expect(backend.stop()).resolves.toBeUndefined();
    });

    contractCase('unknown_profile', 'a claim naming an unknown profile rejects with unknown_profile', async ({ open }) => {
      const backend = await open(0);
      const error = await backend.claim('contract-nope', 'no-such-profile').then(() => null, (e: unknown) => e);
      expect(isSandboxError(error)).toBe(true);
      expect(error).toMatchObject({ name: 'SandboxError', code: 'unknown_profile' });
    });
  });

}
