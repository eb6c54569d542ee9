// Pure rollout arithmetic of one Modal standby pool after an upgrade: how many outdated standbys
// (another spec hash) to retire now, and how many standbys the replenish plan should count as
// "ready", so that the pool refills with current standbys at most `maxSurge` beyond its size.
// The same semantics as the Kubernetes pool (backends/kubernetes/standby-pool.ts planStandbys),
// counted instead of slotted: Modal has no names a replica could race on, so a pool counts its
// registry entries. No I/O; modal-standby-pool.ts applies the result.

export interface RolloutCounts {
  /** The profile's poolSize. */
  target: number;
  /** Registered standbys with the current spec hash and enough life left. */
  current: number;
  /** Registered standbys with another spec hash and enough life left. */
  outdated: number;
  /** Extra standbys allowed while outdated ones are replaced (≥ 0). */
  maxSurge: number;
}

export interface RolloutStep {
  /** Outdated standbys to remove now (oldest first): each has a ready current replacement. */
  retire: number;
  /** What to hand planReplenish as `ready`: current standbys plus outdated ones beyond the surge. */
  countedReady: number;
}

/**
 * An outdated standby goes only once enough current ones are ready to keep the pool at its size,
 * so the pool never drops below it because of the upgrade; and while outdated standbys remain,
 * current + outdated + starting never exceeds target + maxSurge (planReplenish creates
 * target − countedReady − starting). Claims may take outdated standbys only when no current one
 * is registered (ModalStandbyPool.take), so they stay useful until replaced.
 */
export function planRollout(counts: RolloutCounts): RolloutStep {
  const surge = Math.max(0, counts.maxSurge);
  const retire = Math.min(counts.outdated, Math.max(0, counts.current + counts.outdated - counts.target));
  const outdatedLeft = counts.outdated - retire;
  return { retire, countedReady: counts.current + Math.max(0, outdatedLeft - surge) };
}
