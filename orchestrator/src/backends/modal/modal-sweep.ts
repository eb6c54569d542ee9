// Reconciliation between berth's records and Modal: the Modal backend's sweep(). Berth's records
// (the StandbyRegistry and the sessions `isOwned` answers for) are the truth; Modal's tags only
// say which sandboxes are berth's, which pool they belong to and in what state. One pass:
//   1. forget registry standbys Modal no longer runs (died, timed out, deleted by hand);
//   2. drop this replica's claims whose sandbox died, terminate those whose session is gone;
//   3. terminate berth-tagged sandboxes nobody knows: claimed ones whose session is gone, and
//      standbys outside the registry (a replica crashed between create and register, or
//      between pop and re-tag).
// Races, and what closes them (sweep runs on every replica, concurrently with claims):
// - The registry is read BEFORE Modal is listed, so step 1 never forgets a standby registered
//   meanwhile. The other way round, a standby registered meanwhile is listed but missing from the
//   snapshot: every sandbox younger than graceMs (by its created/claimed tag) is left alone, and
//   a standby is registered within healthTimeoutMs of its creation, well inside the grace.
// - A claim pops a standby and then re-tags it 'claimed' (one RPC). A sweep seeing it in that gap
//   sees an old 'standby' missing from the registry. So such candidates are re-checked after
//   settleMs (registry and tags read again) and terminated only if still unclaimed and unknown.
// - Terminate and removeStandby are idempotent / atomic, so concurrent sweeps agree.

import type { SweepReport } from '../../backend.js';
import type { Clock } from '../../pool/clock.js';
import type { ModalPlatform } from './modal-platform.js';
import type { ModalStandbyPool } from './modal-standby-pool.js';
import { BERTH_TAG_VALUE, MODAL_TAGS } from './sandbox-params.js';

export interface LocalClaim {
  sandboxId: string;
  claimedAt: number;
}

export interface SweepDeps {
  platform: ModalPlatform;
  pools: readonly ModalStandbyPool[];
  clock: Clock;
  /** Sandboxes younger than this (ms) are never judged from their tags. */
  graceMs: number;
  /** Wait (ms) before re-checking an unregistered standby; covers a claim's pop → re-tag gap. */
  settleMs: number;
  /** This replica's completed claims by session id, copied before the sweep (mutated: dead or unowned ones are removed). */
  localClaims: Map<string, LocalClaim>;
  terminate(sandboxId: string): Promise<void>;
}

/** Tag lookups at once: bounds the RPC burst a large fleet causes. */
const TAG_LOOKUP_CONCURRENCY = 8;

export async function sweepModal(deps: SweepDeps, isOwned: (sessionId: string) => Promise<boolean>): Promise<SweepReport> {
  const { platform, clock } = deps;
  const removed: string[] = [];
  const registered = await registrySnapshot(deps.pools);
  const running = new Set(await platform.list({ [MODAL_TAGS.berth]: BERTH_TAG_VALUE }));

  for (const [sandboxId, pool] of registered) {
    if (running.has(sandboxId)) continue;
    if (await pool.removeStandbyEntry(sandboxId)) removed.push(sandboxId);
  }

  const localIds = new Set<string>();
  for (const [sessionId, claim] of [...deps.localClaims]) {
    localIds.add(claim.sandboxId);
    // localClaims was copied before the list began, so each of these sandboxes already existed
    // when Modal was listed: missing from the list means it is gone.
    if (!running.has(claim.sandboxId)) {
      deps.localClaims.delete(sessionId);
      removed.push(claim.sandboxId);
    } else if (!(await isOwned(sessionId))) {
      deps.localClaims.delete(sessionId);
      await deps.terminate(claim.sandboxId);
      removed.push(claim.sandboxId);
    }
  }

  const unknown = [...running].filter((id) => !registered.has(id) && !localIds.has(id));
  const candidates: string[] = [];
  await forEachLimited(unknown, TAG_LOOKUP_CONCURRENCY, async (sandboxId) => {
    const tags = await platform.getTags(sandboxId).catch(() => null);
    if (!tags) return; // gone meanwhile, or Modal hiccup: next sweep
    const verdict = judge(tags, clock.now(), deps.graceMs);
    if (verdict === 'keep') return;
    if (verdict === 'recheck') {
      candidates.push(sandboxId);
      return;
    }
    if (verdict === 'orphan' || !(await isOwned(verdict.session))) {
      await deps.terminate(sandboxId);
      removed.push(sandboxId);
    }
  });

  if (candidates.length > 0) {
    await new Promise<void>((resolve) => clock.schedule(resolve, deps.settleMs));
    const registeredNow = await registrySnapshot(deps.pools);
    await forEachLimited(candidates, TAG_LOOKUP_CONCURRENCY, async (sandboxId) => {
      if (registeredNow.has(sandboxId)) return;
      const tags = await platform.getTags(sandboxId).catch(() => null);
      if (!tags || tags[MODAL_TAGS.state] !== 'standby') return;
      await deps.terminate(sandboxId);
      removed.push(sandboxId);
    });
  }
  return { removed };
}

type Verdict = 'keep' | 'recheck' | 'orphan' | { session: string };

function judge(tags: Record<string, string>, now: number, graceMs: number): Verdict {
  const state = tags[MODAL_TAGS.state];
  const since = Number(state === 'claimed' ? tags[MODAL_TAGS.claimedAtMs] : tags[MODAL_TAGS.createdAtMs]);
  if (Number.isFinite(since) && now - since < graceMs) return 'keep';
  if (state === 'standby') return 'recheck';
  const session = tags[MODAL_TAGS.session];
  if (state === 'claimed' && session) return { session };
  return 'orphan';
}

async function registrySnapshot(pools: readonly ModalStandbyPool[]): Promise<Map<string, ModalStandbyPool>> {
  const map = new Map<string, ModalStandbyPool>();
  for (const pool of pools) for (const entry of await pool.entries()) map.set(entry.sandboxId, pool);
  return map;
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(workers);
}
