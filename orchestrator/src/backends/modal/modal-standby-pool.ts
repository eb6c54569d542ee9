// The warm standby pool of one profile on Modal. Membership lives in the StandbyRegistry (the
// gateway store's `standbys` port), shared by every gateway replica; this class only (a) starts standbys until the
// registry holds the profile's poolSize, (b) recycles standbys before Modal's lifetime runs out,
// (c) trims the overshoot when several replicas filled at once, (d) after an upgrade replaces
// standbys of another spec hash gradually (standby-rollout.ts: at most maxSurge extra, an
// outdated one removed only once a current one is ready), and (e) takes one for a claim with the
// registry's atomic remove. How many to start at once and the failure backoff come from
// pool/replenish-plan.ts, the same policy the other backends use.
//
// Races, and what closes them:
// - Two replicas fill at once and overshoot: trim removes the excess with removeStandby, which
//   only one caller can win per id, so exactly one replica terminates each extra standby.
// - Recycle, retire or claim of the same standby: all go through removeStandby; whoever removes
//   the entry owns the sandbox, the other side sees false and leaves it alone.
// - Concurrent claims pick among the same listed standbys: each tries them in its own random
//   order, a lost removeStandby just moves on to the next, so claims rarely collide and never share.
// - A standby is registered only after its agent answered /health through the tunnel, so a
//   claim never pops a sandbox that is still booting.
// - A retired outdated standby is terminated (awaited) before the same pass plans its
//   replacement's successor, so Modal never runs more than poolSize + maxSurge standbys of one
//   replica's pool. Across replicas each one's surge adds up while their starts overlap.

import { randomBytes } from 'node:crypto';
import { waitForHealth } from '../../agent-client.js';
import type { BackendMetrics } from '../../metrics.js';
import type { Clock } from '../../pool/clock.js';
import type { Logger } from '../../pool/logger.js';
import { planReplenish, type ReplenishPolicy } from '../../pool/replenish-plan.js';
import type { SandboxProfile } from '../../profile.js';
import type { CreatedSandbox, ModalPlatform } from './modal-platform.js';
import type { ModalSandboxSpec, SandboxInstance } from './sandbox-params.js';
import { decodeStandbyData, encodeStandbyData, type StandbyData, type StandbyEntry, type StandbyRegistry } from './standby-registry.js';
import { planRollout } from './standby-rollout.js';

export interface StandbyPoolDeps {
  platform: ModalPlatform;
  registry: StandbyRegistry;
  clock: Clock;
  logger: Logger;
  metrics: BackendMetrics;
  policy: ReplenishPolicy;
  /** Cold-start budget: create + tunnel + agent /health, in ms. */
  healthTimeoutMs: number;
  /** A standby with less life left than this is recycled and never claimed, in ms. */
  recycleBeforeMs: number;
  /** How often the pool re-checks itself (fill, recycle, trim), in ms. */
  maintenanceIntervalMs: number;
  /** Standbys started beyond poolSize while outdated ones are replaced (≥ 1; see standby-rollout.ts). */
  maxSurge: number;
  /** Terminates a sandbox (tracked by the backend so stop() can await it); never rejects. */
  discard(sandboxId: string, reason: string): Promise<void>;
}

export interface TakenStandby extends StandbyData {
  sandboxId: string;
}

/** Registry listings one take() makes before giving up to a cold start (each lost race re-lists). */
const MAX_TAKE_LISTINGS = 4;

/** A copy in random order (Fisher–Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export class ModalStandbyPool {
  readonly profile: SandboxProfile;
  /** Pool tag value (the profile's name, see poolKeyFor): the same before and after an upgrade. */
  readonly poolKey: string;
  /** Spec hash of the definition this replica builds standbys from (modalSpecHash). */
  readonly specHash: string;
  /** Registry key: the pool key scoped to the Modal app, shared by every replica. */
  readonly registryKey: string;
  readonly #deps: StandbyPoolDeps;
  readonly #spec: (instance: SandboxInstance) => ModalSandboxSpec;
  readonly #lifetimeMs: number;
  readonly #abort = new AbortController();
  readonly #inflight = new Set<Promise<void>>();
  #starting = 0;
  #failures = 0;
  #lastFailureAtMs: number | null = null;
  #filling: Promise<void> | null = null;
  #fillAgain = false;
  #cancelTimer: (() => void) | null = null;
  #stopped = false;

  constructor(profile: SandboxProfile, keys: { poolKey: string; registryKey: string; specHash: string }, lifetimeMs: number, spec: (instance: SandboxInstance) => ModalSandboxSpec, deps: StandbyPoolDeps) {
    const { poolKey, registryKey, specHash } = keys;
    this.profile = profile;
    this.poolKey = poolKey;
    this.specHash = specHash;
    this.registryKey = registryKey;
    this.#lifetimeMs = lifetimeMs;
    this.#spec = spec;
    this.#deps = deps;
  }

  get starting(): number {
    return this.#starting;
  }

  start(): void {
    this.#tick();
  }

  /** Stops filling; aborts standbys still booting (they are terminated, never registered). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#cancelTimer?.();
    await Promise.allSettled([this.#filling, ...this.#inflight]);
  }

  /** The registry's members of this pool (all replicas'). */
  entries(): Promise<StandbyEntry[]> {
    return this.#deps.registry.listStandbys(this.registryKey);
  }

  /** Forgets one member; true when this call removed it (so the caller owns its sandbox). */
  removeStandbyEntry(sandboxId: string): Promise<boolean> {
    return this.#deps.registry.removeStandby(this.registryKey, sandboxId);
  }

  /** Ready members with enough life left to be claimed (of any spec hash: outdated ones are claimable until replaced). */
  async readyCount(): Promise<number> {
    return (await this.entries()).filter((e) => this.#claimable(decodeStandbyData(e.data))).length;
  }

  /**
   * Takes a standby for a claim: one of the current spec hash when the registry holds any, else
   * an outdated one (still a working agent, replaced later anyway), so no claim gets an outdated
   * standby while a current one is registered. Expiring or unreadable members met on the way are
   * removed and discarded. Candidates are tried in random order (replicas claiming at once rarely
   * pick the same one); removeStandby is the claim, so a lost race only moves on.
   */
  async take(): Promise<TakenStandby | null> {
    for (let listing = 0; listing < MAX_TAKE_LISTINGS; listing++) {
      const entries = await this.#deps.registry.listStandbys(this.registryKey);
      if (entries.length === 0) return null;
      const current: TakenStandby[] = [];
      const outdated: TakenStandby[] = [];
      for (const entry of entries) {
        const data = decodeStandbyData(entry.data);
        if (this.#claimable(data)) (data!.specHash === this.specHash ? current : outdated).push({ sandboxId: entry.sandboxId, ...data! });
        else if (await this.#deps.registry.removeStandby(this.registryKey, entry.sandboxId)) void this.#deps.discard(entry.sandboxId, data ? 'standby expiring' : 'unreadable standby entry');
      }
      for (const candidate of [...shuffled(current), ...shuffled(outdated)]) {
        if (await this.#deps.registry.removeStandby(this.registryKey, candidate.sandboxId)) return candidate;
      }
      // Every candidate went to another claim (or a recycle) meanwhile: look again.
    }
    return null;
  }

  /** Creates one sandbox and waits until its agent is healthy; terminates it on any failure. */
  async launch(instance: Omit<SandboxInstance, 'authToken' | 'createdAtMs' | 'poolKey' | 'specHash'>, signal?: AbortSignal): Promise<CreatedSandbox & StandbyData> {
    const createdAtMs = this.#deps.clock.now();
    const authToken = randomBytes(32).toString('base64url');
    const created = await this.#deps.platform.create(this.#spec({ ...instance, poolKey: this.poolKey, specHash: this.specHash, authToken, createdAtMs }));
    try {
      await waitForHealth({ url: created.url, authToken }, { timeoutMs: this.#deps.healthTimeoutMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      void this.#deps.discard(created.sandboxId, 'never became healthy');
      throw error;
    }
    return { ...created, authToken, createdAtMs, expiresAtMs: createdAtMs + this.#lifetimeMs, specHash: this.specHash };
  }

  /** Asks for a fill pass soon (after a claim took a standby, or a start finished). */
  requestFill(): void {
    if (this.#stopped) return;
    if (this.#filling) {
      this.#fillAgain = true;
      return;
    }
    this.#filling = this.#fill()
      .catch((error: unknown) => this.#deps.logger.warn({ profile: this.profile.name, err: String(error) }, 'modal standby pool maintenance failed'))
      .finally(() => {
        this.#filling = null;
        if (this.#fillAgain) {
          this.#fillAgain = false;
          this.requestFill();
        }
      });
  }

  #tick(): void {
    if (this.#stopped) return;
    this.requestFill();
    this.#cancelTimer = this.#deps.clock.schedule(() => this.#tick(), this.#deps.maintenanceIntervalMs);
  }

  async #fill(): Promise<void> {
    const { registry, clock } = this.#deps;
    const entries = await registry.listStandbys(this.registryKey);
    const current: StandbyEntry[] = [];
    const outdated: StandbyEntry[] = [];
    for (const entry of entries) {
      const data = decodeStandbyData(entry.data);
      if (this.#claimable(data)) {
        (data!.specHash === this.specHash ? current : outdated).push(entry);
        continue;
      }
      if (await registry.removeStandby(this.registryKey, entry.sandboxId)) void this.#deps.discard(entry.sandboxId, 'standby recycled before its lifetime ends');
    }
    // After an upgrade: outdated standbys go (oldest first) once current ones stand in for them.
    // The termination is awaited, so this pass's starts never overlap the standby they replace.
    const step = planRollout({ target: this.profile.poolSize, current: current.length, outdated: outdated.length, maxSurge: this.#deps.maxSurge });
    let outdatedLeft = outdated.length;
    for (const entry of outdated.slice(0, step.retire)) {
      if (await registry.removeStandby(this.registryKey, entry.sandboxId)) {
        outdatedLeft--;
        await this.#deps.discard(entry.sandboxId, 'standby of an outdated definition replaced');
      }
    }
    let ready = current.length;
    const excess = ready - this.profile.poolSize;
    if (excess > 0 && this.#starting === 0) {
      // Oldest first: they have the least life left.
      for (const entry of current.slice(0, excess)) {
        if (await registry.removeStandby(this.registryKey, entry.sandboxId)) {
          void this.#deps.discard(entry.sandboxId, 'pool above its size');
          ready--;
        }
      }
    }
    this.#deps.metrics.standbyReady(this.profile.name, Math.max(0, ready + outdatedLeft));
    const counted = planRollout({ target: this.profile.poolSize, current: ready, outdated: outdatedLeft, maxSurge: this.#deps.maxSurge }).countedReady;
    const decision = planReplenish(
      { target: this.profile.poolSize, ready: counted, starting: this.#starting, consecutiveFailures: this.#failures, lastFailureAtMs: this.#lastFailureAtMs, stopped: this.#stopped },
      this.#deps.policy,
      clock.now(),
    );
    for (let i = 0; i < decision.create; i++) this.#startOne();
    if (decision.retryAtMs !== null) clock.schedule(() => this.requestFill(), Math.max(0, decision.retryAtMs - clock.now()));
  }

  /** Readable, and with enough life left to be handed to a session. */
  #claimable(data: StandbyData | null): boolean {
    return data !== null && data.expiresAtMs - this.#deps.clock.now() >= this.#deps.recycleBeforeMs;
  }

  #startOne(): void {
    this.#starting++;
    const run = (async () => {
      try {
        const sandbox = await this.launch({ state: 'standby' }, this.#abort.signal);
        if (this.#stopped) {
          void this.#deps.discard(sandbox.sandboxId, 'pool stopped while it booted');
          return;
        }
        const { sandboxId, url, authToken, createdAtMs, expiresAtMs, specHash } = sandbox;
        await this.#deps.registry.addStandby(this.registryKey, { sandboxId, data: encodeStandbyData({ url, authToken, createdAtMs, expiresAtMs, specHash }) });
        this.#failures = 0;
      } catch (error) {
        if (this.#stopped) return;
        this.#failures++;
        this.#lastFailureAtMs = this.#deps.clock.now();
        this.#deps.logger.warn({ profile: this.profile.name, failures: this.#failures, err: String(error) }, 'modal standby failed to start');
      } finally {
        this.#starting--;
      }
    })();
    this.#inflight.add(run);
    void run.finally(() => {
      this.#inflight.delete(run);
      this.requestFill();
    });
  }
}
