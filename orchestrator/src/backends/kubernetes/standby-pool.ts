// Keeps each profile's standby pool at its target, driven by the pod mirror's changes (a watch
// event schedules one reconcile; nothing polls). Replicas cooperate without a lock: every
// standby fills a numbered slot (0..target-1) and its name is derived from the slot and the
// lowest generation not in use, so replicas that see the same pods create the same name and
// all but one get 409 AlreadyExists. Views that briefly differ may put two standbys in one slot;
// every replica trims the same one (the higher name) with a resourceVersion precondition, so a
// standby claimed meanwhile is never deleted. Creates run at most `maxConcurrentCreates` at once.
// After an upgrade (another agent image, profile or agent environment) standbys whose spec-hash
// label differs from the current one are replaced gradually: at most `maxSurge` slots at a time
// get a current standby beside their outdated one, and the outdated one is deleted only once its
// replacement is ready, so the pool never drops below its size. Claimed pods are never touched.

import type { V1Pod } from '@kubernetes/client-node';
import type { SandboxProfile } from '../../profile.js';
import { KubeApiError, type PodApi } from './kube-api.js';
import { standbyPodName } from './pod-manifest.js';
import { LABEL_SPEC_HASH } from './pod-labels.js';
import { isFailed, isLive, isReady, isTerminating, podName, profileOf, slotOf, stateOf } from './pod-status.js';

export interface StandbyPlan {
  create: { slot: number; name: string }[];
  /** Pods to delete, each only if still at `resourceVersion`. */
  remove: { name: string; resourceVersion: string; why: 'failed' | 'surplus' | 'unusable' | 'outdated' }[];
}

export interface Rollout {
  /** The spec hash current standbys of this profile carry (pod-manifest.ts podSpecHash). */
  specHash: string;
  /** Slots replaced at once after an upgrade (a current standby booting beside an outdated one). */
  maxSurge: number;
}

/**
 * Pure plan for one profile. `pods`: every pod of the installation (names of claimed and dying
 * pods are taken too); `creating`: names this replica is creating now; `usable`: false for
 * standbys this gateway cannot talk to (token key rotated out).
 */
export function planStandbys(
  pool: string,
  profile: SandboxProfile,
  pods: readonly V1Pod[],
  creating: ReadonlySet<string>,
  usable: (pod: V1Pod) => boolean,
  rollout: Rollout,
): StandbyPlan {
  const plan: StandbyPlan = { create: [], remove: [] };
  const taken = new Set<string>([...creating, ...pods.map(podName)]);
  const bySlot = new Map<number, V1Pod[]>();
  for (const pod of pods) {
    if (profileOf(pod) !== profile.name || stateOf(pod) !== 'standby' || isTerminating(pod)) continue;
    const rv = pod.metadata?.resourceVersion ?? '';
    const slot = slotOf(pod);
    if (isFailed(pod)) plan.remove.push({ name: podName(pod), resourceVersion: rv, why: 'failed' });
    else if (!usable(pod)) plan.remove.push({ name: podName(pod), resourceVersion: rv, why: 'unusable' });
    else if (slot === undefined || slot >= profile.poolSize) plan.remove.push({ name: podName(pod), resourceVersion: rv, why: 'surplus' });
    else bySlot.set(slot, [...(bySlot.get(slot) ?? []), pod]);
  }
  const byName = (a: V1Pod, b: V1Pod) => podName(a).localeCompare(podName(b));
  const current = (pod: V1Pod) => pod.metadata?.labels?.[LABEL_SPEC_HASH] === rollout.specHash;
  const remove = (pod: V1Pod, why: 'surplus' | 'outdated') => plan.remove.push({ name: podName(pod), resourceVersion: pod.metadata?.resourceVersion ?? '', why });
  const creatingFor = (slot: number) => {
    const slotPrefix = standbyPodName(pool, profile.name, slot, 0).replace(/-0$/, '-');
    return [...creating].some((name) => name.startsWith(slotPrefix) && /^\d+$/.test(name.slice(slotPrefix.length)));
  };
  const create = (slot: number) => {
    let generation = 0;
    while (taken.has(standbyPodName(pool, profile.name, slot, generation))) generation++;
    const name = standbyPodName(pool, profile.name, slot, generation);
    taken.add(name);
    plan.create.push({ slot, name });
  };
  // Slots whose only standby is outdated, and how many slots are being replaced right now.
  const outdatedOnly: number[] = [];
  let surging = 0;
  for (let slot = 0; slot < profile.poolSize; slot++) {
    const occupants = bySlot.get(slot) ?? [];
    const fresh = occupants.filter(current).sort(byName);
    const outdated = occupants.filter((pod) => !current(pod)).sort(byName);
    if (fresh.length > 0) {
      for (const extra of fresh.slice(1)) remove(extra, 'surplus');
      // The replacement serves first; only then does the outdated standby go (if still unclaimed:
      // the delete carries its resourceVersion, so a claim in between wins).
      if (isReady(fresh[0]!)) for (const old of outdated) remove(old, 'outdated');
      else if (outdated.length > 0) surging++;
      continue;
    }
    if (outdated.length > 0) {
      for (const extra of outdated.slice(1)) remove(extra, 'surplus');
      if (creatingFor(slot)) surging++;
      else outdatedOnly.push(slot);
      continue;
    }
    if (!creatingFor(slot)) create(slot);
  }
  for (const slot of outdatedOnly) {
    if (surging >= rollout.maxSurge) break;
    create(slot);
    surging++;
  }
  return plan;
}

export interface StandbyCounts {
  ready: number;
  starting: number;
  claimed: number;
}

export function countPods(profile: string, pods: Iterable<V1Pod>): StandbyCounts {
  const counts: StandbyCounts = { ready: 0, starting: 0, claimed: 0 };
  for (const pod of pods) {
    if (profileOf(pod) !== profile || !isLive(pod)) continue;
    if (stateOf(pod) === 'claimed') counts.claimed++;
    else if (stateOf(pod) === 'standby') {
      if (isReady(pod)) counts.ready++;
      else counts.starting++;
    }
  }
  return counts;
}

export interface StandbyPoolOptions {
  api: PodApi;
  pool: string;
  profiles: readonly SandboxProfile[];
  pods: () => V1Pod[];
  usable: (pod: V1Pod) => boolean;
  makeStandby: (profile: SandboxProfile, slot: number, name: string) => V1Pod;
  /** The spec hash a standby of this profile gets now (its LABEL_SPEC_HASH). */
  specHash: (profile: SandboxProfile) => string;
  /**
   * Slots replaced at once after an upgrade. Default 1: one extra pod per profile while outdated
   * standbys are replaced, so an upgrade costs the cluster one pod of headroom, not a second pool;
   * higher replaces faster at that much more headroom.
   */
  maxSurge?: number;
  /** Creates in flight at once across profiles. Default 4: each new pod costs the API server and scheduler work, and a burst of them competes with claims. */
  maxConcurrentCreates?: number;
  onCreated: (pod: V1Pod) => void;
  onReconciled: (profile: string, counts: StandbyCounts) => void;
  onWarn?: (message: string) => void;
}

export class StandbyPool {
  private readonly creating = new Set<string>();
  private readonly deleting = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: StandbyPoolOptions) {}

  /** Coalesces bursts of watch events into one reconcile on the next turn of the event loop. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.reconcile();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await Promise.allSettled([...this.pending]);
  }

  private reconcile(): void {
    const pods = this.options.pods();
    const maxCreates = this.options.maxConcurrentCreates ?? 4;
    for (const profile of this.options.profiles) {
      this.options.onReconciled(profile.name, countPods(profile.name, pods));
      const rollout = { specHash: this.options.specHash(profile), maxSurge: this.options.maxSurge ?? 1 };
      const plan = planStandbys(this.options.pool, profile, pods, this.creating, this.options.usable, rollout);
      for (const item of plan.remove) {
        if (this.deleting.has(item.name)) continue;
        this.deleting.add(item.name);
        this.track(this.options.api
          .delete(item.name, { resourceVersion: item.resourceVersion, ...(item.why === 'failed' ? { gracePeriodS: 0 } : {}) })
          .then(() => undefined, (error) => this.onFailure(`delete ${item.why} standby`, error))
          .finally(() => this.deleting.delete(item.name)));
      }
      for (const item of plan.create) {
        if (this.creating.size >= maxCreates) break;
        this.creating.add(item.name);
        this.track(this.options.api
          .create(this.options.makeStandby(profile, item.slot, item.name))
          .then((pod) => {
            this.failures = 0;
            this.options.onCreated(pod);
          }, (error) => {
            // 409 AlreadyExists: another replica filled this slot first; the watch shows it.
            if (!(error instanceof KubeApiError && error.status === 409)) this.onFailure('create standby', error);
          })
          .finally(() => {
            this.creating.delete(item.name);
            this.schedule();
          }));
      }
    }
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  /** Errors back off exponentially (0.2 s … 10 s) and then reconcile again, since no watch event may follow. */
  private onFailure(what: string, error: unknown): void {
    if (this.stopped) return;
    if (error instanceof KubeApiError && error.status === 409) return; // precondition: the pod moved on (claimed).
    this.failures++;
    this.options.onWarn?.(`${what}: ${(error as Error).message}`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.schedule(), Math.min(10_000, 200 * 2 ** Math.min(this.failures, 6)));
  }
}
