// ModalBackend: the SandboxBackend on Modal sandboxes (`modal@0.11.1`). Each session gets one
// Modal sandbox running the agent image; warm standbys per profile live in the StandbyRegistry
// (the gateway store's `standbys`) so that a claim is one atomic pop there, safe across gateway replicas. The
// gateway bootstraps a claimed sandbox; this backend only hands it over healthy. Runtime model
// and configuration: README.md beside this file. Pieces: sandbox-params.ts (pure definition),
// modal-platform.ts (the SDK edge, error mapping), modal-standby-pool.ts (fill, recycle, take),
// modal-sweep.ts (reconciliation with Modal's tags).
//
// RPCs of a warm claim: one registry list + one atomic remove + one SandboxTagsSet + one /health probe through the
// tunnel. A cold claim: SandboxCreate(V2) (tunnels come back with it) + /health polling.

import type { ModalClientParams } from 'modal';
import { probeHealth } from '../../agent-client.js';
import type { BackendKind, ClaimedSandbox, PoolStatus, SandboxBackend, SweepReport } from '../../backend.js';
import { SandboxError } from '../../errors.js';
import { noopBackendMetrics, type BackendMetrics } from '../../metrics.js';
import { systemClock, type Clock } from '../../pool/clock.js';
import { silentLogger, type Logger } from '../../pool/logger.js';
import { DEFAULT_REPLENISH_POLICY, type ReplenishPolicy } from '../../pool/replenish-plan.js';
import { SingleFlight } from '../../pool/single-flight.js';
import type { SandboxProfile } from '../../profile.js';
import { ModalPlatform } from './modal-platform.js';
import { ModalStandbyPool } from './modal-standby-pool.js';
import { sweepModal, type LocalClaim } from './modal-sweep.js';
import { BERTH_TAG_VALUE, buildSandboxParams, MODAL_TAGS, modalSpecHash, poolKeyFor, sandboxTags, type ModalSandboxDefaults, type TunnelMode } from './sandbox-params.js';
import type { StandbyRegistry } from './standby-registry.js';

export interface ModalBackendOptions {
  profiles: readonly SandboxProfile[];
  /** Pool membership store: the gateway store's `standbys` port (Redis for more than one replica). */
  standbys: StandbyRegistry;
  /** Modal App holding berth's sandboxes (BERTH_MODAL_APP). Default 'berth'. One app per deployment. */
  appName?: string;
  /** Modal environment. Default: MODAL_ENVIRONMENT, else the workspace default. */
  environment?: string;
  /** Extra `new ModalClient()` params; credentials come from MODAL_TOKEN_ID / MODAL_TOKEN_SECRET. */
  clientParams?: ModalClientParams;
  /** Registry tag of the agent image for profiles naming none (BERTH_AGENT_IMAGE). */
  agentImage?: string;
  /** Agent server command in the image. Default: agent-image/Dockerfile's ENTRYPOINT (tini, then node /app/dist/main.js). */
  agentCommand?: string[];
  /** Agent server port inside the sandbox. Default 8000. */
  agentPort?: number;
  /** Extra non-secret environment for every agent (per-session settings arrive at bootstrap). */
  agentEnv?: Record<string, string>;
  /** The egress gateway's address(es) as sandboxes see them, e.g. ['203.0.113.7/32']. Empty: no egress at all. */
  egressCidrs?: string[];
  /** 'encrypted' (default): https tunnel. 'unencrypted': raw TCP tunnel, plain HTTP (fakes, trusted networks only). */
  tunnel?: TunnelMode;
  /**
   * Sandbox lifetime in ms (whole seconds), unless the profile sets modal.timeoutMs. Default 6 h:
   * Modal allows 24 h; shorter lifetimes recycle standbys more often (more creates), longer ones
   * keep a sandbox (and what a session left in it) around longer.
   */
  sandboxTimeoutMs?: number;
  /**
   * A standby with less life left than this (ms) is recycled and never claimed. Default 1 h: a
   * claimed session then keeps its sandbox at least an hour; after that Modal ends it and the
   * gateway resumes the conversation on a fresh sandbox (durable sessions).
   */
  recycleBeforeMs?: number;
  /** Budget of a cold start (create, tunnel, /health), in ms. Default 120 000: image pulls on a fresh worker take tens of seconds. */
  healthTimeoutMs?: number;
  /** One /health probe of a popped standby, in ms. Default 3000; a standby failing it is discarded and the next one tried. */
  claimProbeTimeoutMs?: number;
  /** Wait for a new sandbox's tunnel, in ms. Default 50 000 (the client's). */
  tunnelTimeoutMs?: number;
  /** Pool self-check period (fill, recycle, trim), in ms. Default 15 000; claims also trigger a fill at once. */
  maintenanceIntervalMs?: number;
  /**
   * Standbys started beyond a profile's poolSize while standbys of an older definition (another
   * image, profile or agent environment: another spec hash) are replaced after an upgrade; the
   * same knob as the Kubernetes backend's. Default 1: an upgrade costs one sandbox of headroom per
   * profile and replica, not a second pool; higher replaces faster. At least 1 (0 would never replace).
   */
  recycleMaxSurge?: number;
  /** Sweeps leave sandboxes younger than this alone (ms). Default 10 min: must exceed healthTimeoutMs. */
  sweepGraceMs?: number;
  /** Re-check delay for unregistered standbys in a sweep (ms). Default 5000: covers a claim's pop → re-tag gap. */
  sweepSettleMs?: number;
  /**
   * What stop() does with sandboxes. 'keep' (default): nothing, other replicas (or the next start)
   * use the standbys, sessions keep their sandboxes. 'terminate': this replica's claimed sandboxes
   * and every registered standby of its profiles; right when the registry is in-process.
   */
  onStop?: 'keep' | 'terminate';
  replenish?: Partial<ReplenishPolicy>;
  clock?: Clock;
  logger?: Logger;
  metrics?: BackendMetrics;
}

/** Popped standbys tried per claim before falling back to a cold start. */
const MAX_WARM_ATTEMPTS = 3;

export class ModalBackend implements SandboxBackend {
  readonly kind: BackendKind = 'modal';
  readonly #options: ModalBackendOptions;
  readonly #profiles: readonly SandboxProfile[];
  readonly #defaults: ModalSandboxDefaults;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: BackendMetrics;
  readonly #claims = new SingleFlight<string, ClaimedSandbox>();
  readonly #claimed = new Map<string, ClaimedSandbox>();
  readonly #counters = new Map<string, { warm: number; cold: number }>();
  readonly #background = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #keys = new Map<string, { poolKey: string; registryKey: string; specHash: string }>();
  #pools = new Map<string, ModalStandbyPool>();
  #platform: ModalPlatform | null = null;
  #state: 'new' | 'running' | 'stopped' = 'new';

  constructor(options: ModalBackendOptions) {
    if (!options.standbys) throw new Error('ModalBackend needs options.standbys: the standbys port of the gateway store (pool membership lives there)');
    this.#options = options;
    this.#profiles = [...options.profiles];
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.metrics ?? noopBackendMetrics;
    this.#defaults = {
      ...(options.agentImage ? { agentImage: options.agentImage } : {}),
      // Modal runs the given command, not the image's ENTRYPOINT: repeat it, tini included (it
      // reaps the zombies a tenant's tool processes leave behind).
      agentCommand: options.agentCommand ?? ['/usr/bin/tini', '--', 'node', '/app/dist/main.js'],
      agentPort: options.agentPort ?? 8000,
      timeoutMs: options.sandboxTimeoutMs ?? 6 * 3600_000,
      egressCidrs: options.egressCidrs ?? [],
      tunnel: options.tunnel ?? 'encrypted',
      agentEnv: options.agentEnv ?? {},
    };
    // Fail at construction, not at the first claim: a profile without an image is a config error.
    const appName = options.appName ?? 'berth';
    for (const profile of this.#profiles) {
      const poolKey = poolKeyFor(profile);
      this.#keys.set(profile.name, { poolKey, registryKey: `modal/${appName}/${poolKey}`, specHash: modalSpecHash(profile, this.#defaults) });
    }
    const surge = options.recycleMaxSurge;
    if (surge !== undefined && !(Number.isInteger(surge) && surge >= 1)) {
      throw new SandboxError('invalid_config', `recycleMaxSurge must be a whole number ≥ 1 (got ${surge}): with 0 outdated standbys would never be replaced`);
    }
  }

  /** The StandbyRegistry key of a profile's pool (for inspection: `berth pool`, tests). */
  standbyRegistryKey(profileName: string): string | undefined {
    return this.#keys.get(profileName)?.registryKey;
  }

  /** The spec hash this backend's standbys of a profile carry (tag `berth-spec-hash`, registry record). */
  standbySpecHash(profileName: string): string | undefined {
    return this.#keys.get(profileName)?.specHash;
  }

  profiles(): readonly SandboxProfile[] {
    return this.#profiles;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    const platform = await ModalPlatform.connect({
      appName: this.#options.appName ?? 'berth',
      ...(this.#options.environment ? { environment: this.#options.environment } : {}),
      ...(this.#options.clientParams ? { clientParams: this.#options.clientParams } : {}),
      tunnel: this.#defaults.tunnel,
      ...(this.#options.tunnelTimeoutMs ? { tunnelTimeoutMs: this.#options.tunnelTimeoutMs } : {}),
    });
    this.#platform = platform;
    for (const profile of this.#profiles) {
      const lifetimeMs = profile.modal?.timeoutMs ?? this.#defaults.timeoutMs;
      const pool = new ModalStandbyPool(profile, this.#keys.get(profile.name)!, lifetimeMs, (instance) => buildSandboxParams(profile, this.#defaults, instance), {
        platform,
        registry: this.#options.standbys,
        clock: this.#clock,
        logger: this.#logger,
        metrics: this.#metrics,
        policy: { ...DEFAULT_REPLENISH_POLICY, ...this.#options.replenish },
        healthTimeoutMs: this.#options.healthTimeoutMs ?? 120_000,
        recycleBeforeMs: this.#options.recycleBeforeMs ?? 3600_000,
        maintenanceIntervalMs: this.#options.maintenanceIntervalMs ?? 15_000,
        maxSurge: this.#options.recycleMaxSurge ?? 1,
        discard: (sandboxId, reason) => this.#discard(sandboxId, reason),
      });
      this.#pools.set(profile.name, pool);
      this.#counters.set(profile.name, { warm: 0, cold: 0 });
    }
    this.#state = 'running';
    for (const pool of this.#pools.values()) pool.start();
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopped';
    this.#abort.abort();
    await Promise.allSettled([...[...this.#pools.values()].map((p) => p.stop()), this.#claims.settled()]);
    if (wasRunning && this.#options.onStop === 'terminate') {
      for (const claim of this.#claimed.values()) void this.#discard(claim.sandboxId, 'backend stopped');
      this.#claimed.clear();
      for (const pool of this.#pools.values()) {
        for (;;) {
          const entry = await pool.take().catch(() => null);
          if (!entry) break;
          void this.#discard(entry.sandboxId, 'backend stopped');
        }
      }
    }
    // Terminations started by claims, recycling and the above finish before stop() resolves.
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    this.#platform?.close();
  }

  claim(sessionId: string, profileName: string): Promise<ClaimedSandbox> {
    if (this.#state !== 'running') return Promise.reject(new SandboxError('stopped', `modal backend is ${this.#state === 'new' ? 'not started' : 'stopped'}`));
    const pool = this.#pools.get(profileName);
    if (!pool) return Promise.reject(new SandboxError('unknown_profile', `no sandbox profile named ${profileName}`));
    return this.#claims.run(sessionId, () => this.#claim(sessionId, pool));
  }

  async release(sessionId: string): Promise<void> {
    await this.#claims.get(sessionId)?.catch(() => undefined);
    const platform = this.#platform;
    if (!platform) return;
    const local = this.#claimed.get(sessionId);
    this.#claimed.delete(sessionId);
    // A session claimed on another replica is found by its tag (one list RPC).
    const ids = local ? [local.sandboxId] : await platform.list({ [MODAL_TAGS.berth]: BERTH_TAG_VALUE, [MODAL_TAGS.session]: sessionId });
    await Promise.all(ids.map((id) => platform.terminate(id)));
  }

  async pool(): Promise<PoolStatus[]> {
    const platform = this.#requirePlatform();
    return Promise.all(
      [...this.#pools.values()].map(async (pool) => {
        const name = pool.profile.name;
        const counters = this.#counters.get(name) ?? { warm: 0, cold: 0 };
        // Cluster-wide claimed count from Modal's tags; this replica's count if Modal is unreachable.
        const claimed = await platform
          .list({ [MODAL_TAGS.berth]: BERTH_TAG_VALUE, [MODAL_TAGS.pool]: pool.poolKey, [MODAL_TAGS.state]: 'claimed' })
          .then((ids) => ids.length)
          .catch(() => [...this.#claimed.values()].filter((c) => c.profile === name).length);
        return { profile: name, target: pool.profile.poolSize, ready: await pool.readyCount(), starting: pool.starting, claimed, coldStarts: counters.cold, warmClaims: counters.warm };
      }),
    );
  }

  async sweep(isOwned: (sessionId: string) => Promise<boolean>): Promise<SweepReport> {
    const platform = this.#requirePlatform();
    const localClaims = new Map<string, LocalClaim>();
    for (const [sessionId, c] of this.#claimed) localClaims.set(sessionId, { sandboxId: c.sandboxId, claimedAt: c.claimedAt });
    const report = await sweepModal(
      {
        platform,
        pools: [...this.#pools.values()],
        clock: this.#clock,
        graceMs: this.#options.sweepGraceMs ?? 600_000,
        settleMs: this.#options.sweepSettleMs ?? 5000,
        localClaims,
        terminate: (id) => platform.terminate(id),
      },
      isOwned,
    );
    // Claims the sweep dropped (dead or unowned sandboxes) are no longer this replica's.
    for (const [sessionId, c] of [...this.#claimed]) {
      if (!localClaims.has(sessionId) && report.removed.includes(c.sandboxId)) this.#claimed.delete(sessionId);
    }
    for (const pool of this.#pools.values()) pool.requestFill();
    return report;
  }

  async #claim(sessionId: string, pool: ModalStandbyPool): Promise<ClaimedSandbox> {
    const name = pool.profile.name;
    const existing = this.#claimed.get(sessionId);
    if (existing) {
      // One session, one sandbox: hand back the one it has while it is alive.
      if (existing.profile === name && (await probeHealth(existing, this.#options.claimProbeTimeoutMs ?? 3000))) return existing;
      this.#claimed.delete(sessionId);
      void this.#discard(existing.sandboxId, 'session claimed again; its sandbox is gone or of another profile');
    }
    const startedAt = this.#clock.now();
    const counters = this.#counters.get(name) ?? { warm: 0, cold: 0 };
    try {
      const warm = await this.#claimWarm(sessionId, pool);
      if (warm) {
        counters.warm++;
        this.#metrics.claim(name, 'warm', (this.#clock.now() - startedAt) / 1000);
        return warm;
      }
      counters.cold++;
      this.#metrics.coldStart(name);
      const claimedAt = this.#clock.now();
      const sandbox = await pool.launch({ state: 'claimed', sessionId, claimedAtMs: claimedAt }, this.#abort.signal);
      const claimed = this.#record(sessionId, name, sandbox, 'cold', this.#clock.now());
      this.#metrics.claim(name, 'cold', (this.#clock.now() - startedAt) / 1000);
      return claimed;
    } catch (error) {
      this.#metrics.claim(name, 'failed', (this.#clock.now() - startedAt) / 1000);
      if (this.#state !== 'running') throw new SandboxError('stopped', 'modal backend stopped during the claim', { cause: error });
      throw error instanceof SandboxError ? error : new SandboxError('unavailable', `claim for profile ${name} failed`, { cause: error });
    } finally {
      pool.requestFill();
    }
  }

  async #claimWarm(sessionId: string, pool: ModalStandbyPool): Promise<ClaimedSandbox | null> {
    const platform = this.#requirePlatform();
    for (let attempt = 0; attempt < MAX_WARM_ATTEMPTS; attempt++) {
      let standby;
      try {
        standby = await pool.take();
      } catch (cause) {
        throw new SandboxError('unavailable', 'standby registry unreachable', { cause });
      }
      if (!standby) return null;
      const claimedAt = this.#clock.now();
      try {
        // Tags are for reconciliation only: the pop above already made this claim exclusive.
        await platform.setTags(standby.sandboxId, sandboxTags({ poolKey: pool.poolKey, specHash: standby.specHash, state: 'claimed', sessionId, authToken: '', createdAtMs: standby.createdAtMs, claimedAtMs: claimedAt }));
        if (!(await probeHealth(standby, this.#options.claimProbeTimeoutMs ?? 3000))) throw new SandboxError('not_found', 'standby did not answer /health');
      } catch (error) {
        void this.#discard(standby.sandboxId, `standby unusable at claim: ${String(error)}`);
        continue;
      }
      return this.#record(sessionId, pool.profile.name, standby, 'warm', this.#clock.now());
    }
    return null;
  }

  #record(sessionId: string, profile: string, sandbox: { sandboxId: string; url: string; authToken: string }, outcome: 'warm' | 'cold', claimedAt: number): ClaimedSandbox {
    const claimed: ClaimedSandbox = { sandboxId: sandbox.sandboxId, url: sandbox.url, authToken: sandbox.authToken, profile, outcome, claimedAt };
    if (this.#state !== 'running') {
      void this.#discard(sandbox.sandboxId, 'backend stopped during the claim');
      throw new SandboxError('stopped', 'modal backend stopped during the claim');
    }
    this.#claimed.set(sessionId, claimed);
    return claimed;
  }

  /** Terminates in the background (the promise is for callers that must wait); stop() waits for these. Failures are logged, the sweep retries. */
  #discard(sandboxId: string, reason: string): Promise<void> {
    const platform = this.#platform;
    if (!platform) return Promise.resolve();
    const run = platform.terminate(sandboxId).catch((error: unknown) => this.#logger.warn({ sandboxId, reason, err: String(error) }, 'modal sandbox terminate failed'));
    this.#background.add(run);
    void run.finally(() => this.#background.delete(run));
    this.#logger.debug({ sandboxId, reason }, 'modal sandbox discarded');
    return run;
  }

  #requirePlatform(): ModalPlatform {
    if (!this.#platform) throw new SandboxError('stopped', 'modal backend is not started');
    return this.#platform;
  }
}
