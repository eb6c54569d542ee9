// The warm standby pool of one profile on Modal. Membership lives in the StandbyRegistry (the
// gateway store's `standbys` port), shared by every gateway replica; this class only (a) starts standbys until the
// registry holds the profile's poolSize, (b) recycles standbys before Modal's lifetime runs out,
// (c) trims the overshoot when several replicas filled at once, and (d) takes one for a claim
// with the registry's atomic pop. How many to start at once and the failure backoff come from
// pool/replenish-plan.ts, the same policy the other backends use.
//
// Races, and what closes them:
// - Two replicas fill at once and overshoot: trim removes the excess with removeStandby, which
//   only one caller can win per id, so exactly one replica terminates each extra standby.
// - Recycle vs. claim on an expiring standby: both go through the registry; whoever removes the
//   entry owns the sandbox, the other side sees null/false and leaves it alone.
// - A standby is registered only after its agent answered /health through the tunnel, so a
//   claim never pops a sandbox that is still booting.

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
  /** Terminates a sandbox in the background (tracked by the backend so stop() can await it). */
  discard(sandboxId: string, reason: string): void;
}

export interface TakenStandby extends StandbyData {
  sandboxId: string;
}

export class ModalStandbyPool {
  readonly profile: SandboxProfile;
  /** Pool tag value (profile name + definition digest, see poolKeyFor). */
  readonly poolKey: string;
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

  constructor(profile: SandboxProfile, poolKey: string, registryKey: string, lifetimeMs: number, spec: (instance: SandboxInstance) => ModalSandboxSpec, deps: StandbyPoolDeps) {
    this.profile = profile;
    this.poolKey = poolKey;
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

  /** Ready members with enough life left to be claimed. */
  async readyCount(): Promise<number> {
    const now = this.#deps.clock.now();
    return (await this.entries()).filter((e) => {
      const data = decodeStandbyData(e.data);
      return data !== null && data.expiresAtMs - now >= this.#deps.recycleBeforeMs;
    }).length;
  }

  /** Pops standbys until one has enough life left; expired or unreadable ones are discarded. */
  async take(): Promise<TakenStandby | null> {
    for (;;) {
      const entry = await this.#deps.registry.popStandby(this.registryKey);
      if (!entry) return null;
      const data = decodeStandbyData(entry.data);
      if (data && data.expiresAtMs - this.#deps.clock.now() >= this.#deps.recycleBeforeMs) return { sandboxId: entry.sandboxId, ...data };
      this.#deps.discard(entry.sandboxId, data ? 'standby expiring' : 'unreadable standby entry');
    }
  }

  /** Creates one sandbox and waits until its agent is healthy; terminates it on any failure. */
  async launch(instance: Omit<SandboxInstance, 'authToken' | 'createdAtMs'>, signal?: AbortSignal): Promise<CreatedSandbox & StandbyData> {
    const createdAtMs = this.#deps.clock.now();
    const authToken = randomBytes(32).toString('base64url');
    const created = await this.#deps.platform.create(this.#spec({ ...instance, authToken, createdAtMs }));
    try {
      await waitForHealth({ url: created.url, authToken }, { timeoutMs: this.#deps.healthTimeoutMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      this.#deps.discard(created.sandboxId, 'never became healthy');
      throw error;
    }
    return { ...created, authToken, createdAtMs, expiresAtMs: createdAtMs + this.#lifetimeMs };
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
    let ready = 0;
    for (const entry of entries) {
      const data = decodeStandbyData(entry.data);
      if (data && data.expiresAtMs - clock.now() >= this.#deps.recycleBeforeMs) {
        ready++;
        continue;
      }
      if (await registry.removeStandby(this.registryKey, entry.sandboxId)) this.#deps.discard(entry.sandboxId, 'standby recycled before its lifetime ends');
    }
    const excess = ready - this.profile.poolSize;
    if (excess > 0 && this.#starting === 0) {
      // Oldest first: they have the least life left.
      for (const entry of entries.slice(0, excess)) {
        if (await registry.removeStandby(this.registryKey, entry.sandboxId)) {
          this.#deps.discard(entry.sandboxId, 'pool above its size');
          ready--;
        }
      }
    }
    this.#deps.metrics.standbyReady(this.profile.name, Math.max(0, ready));
    const decision = planReplenish(
      { target: this.profile.poolSize, ready, starting: this.#starting, consecutiveFailures: this.#failures, lastFailureAtMs: this.#lastFailureAtMs, stopped: this.#stopped },
      this.#deps.policy,
      clock.now(),
    );
    for (let i = 0; i < decision.create; i++) this.#startOne();
    if (decision.retryAtMs !== null) clock.schedule(() => this.requestFill(), Math.max(0, decision.retryAtMs - clock.now()));
  }

  #startOne(): void {
    this.#starting++;
    const run = (async () => {
      try {
        const sandbox = await this.launch({ poolKey: this.poolKey, state: 'standby' }, this.#abort.signal);
        if (this.#stopped) {
          this.#deps.discard(sandbox.sandboxId, 'pool stopped while it booted');
          return;
        }
        const { sandboxId, url, authToken, createdAtMs, expiresAtMs } = sandbox;
        await this.#deps.registry.addStandby(this.registryKey, { sandboxId, data: encodeStandbyData({ url, authToken, createdAtMs, expiresAtMs }) });
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
