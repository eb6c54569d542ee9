// LocalProcessBackend: every sandbox is an agent-image process on this host (local-sandbox.ts),
// on its own loopback port with its own random AGENT_AUTH_TOKEN, kept warm per profile by the
// shared WarmPool. The embedded default of `berth start`; one gateway process owns all of them,
// so its maps are the whole truth and claim atomicity is plain single-threaded JavaScript.
// Where bubblewrap exists each sandbox runs in its own namespaces (jail.ts) and reaches only the
// egress gateway; without it (or with isolation off) it is a plain process and egress control is
// advisory (README.md).

import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { probeHealth } from '../../agent-client.js';
import type { ClaimedSandbox, ClaimOutcome, PoolStatus, SandboxBackend, SweepReport } from '../../backend.js';
import { SandboxError } from '../../errors.js';
import { noopBackendMetrics, type BackendMetrics } from '../../metrics.js';
import { standbyAgentEnv, type SandboxProfile } from '../../profile.js';
import { systemClock, type Clock } from '../../pool/clock.js';
import { silentLogger, type Logger } from '../../pool/logger.js';
import type { ReplenishPolicy } from '../../pool/replenish-plan.js';
import { SingleFlight } from '../../pool/single-flight.js';
import { WarmPool } from '../../pool/warm-pool.js';
import os from 'node:os';
import path from 'node:path';
import type { EgressTarget } from './bridge-host.js';
import { limitsFor, NOT_ISOLATED_WARNING, resolveIsolation, type Isolation, type IsolationSetting } from './jail.js';
import { startLocalSandbox, type JailOptions, type LocalSandbox } from './local-sandbox.js';
import { sweepDeadSandboxes } from './sandbox-state.js';

export interface LocalProcessBackendOptions {
  profiles: readonly SandboxProfile[];
  /** Extra environment for every agent process (BERTH_AGENT_PRESTART, ANTHROPIC_BASE_URL, …). Never the host's. */
  agentEnv?: Record<string, string>;
  /** Loopback address the agents bind. Default 127.0.0.1: nothing off-host may reach them. */
  host?: string;
  /** Bound on one agent start (listening + healthy), in ms. Default 30 000; a start takes ~1 s here. */
  startTimeoutMs?: number;
  /** SIGTERM→SIGKILL grace on release, in ms. Default 2000: enough for the server to end its CLI turn. */
  killGraceMs?: number;
  /** Pool refill policy (concurrency, backoff); see pool/replenish-plan.ts for defaults and why. */
  replenish?: Partial<ReplenishPolicy>;
  /** How long after a claim its replacement starts, ms; default REFILL_DELAY_MS (pool/warm-pool.ts, which says why). */
  refillDelayMs?: number;
  logger?: Logger;
  metrics?: BackendMetrics;
  clock?: Clock;
  /**
   * BERTH_LOCAL_ISOLATION: 'auto' (default) isolates each sandbox where bwrap exists and warns
   * where it does not; 'on' refuses to start without it; 'off' runs plain processes (the
   * benchmark's baseline). Security control.
   */
  isolation?: IsolationSetting;
  /**
   * The egress gateway's URL as sandboxes dial it (BERTH_EGRESS_PUBLIC_URL), with an IP-literal
   * host. Isolated sandboxes get a bridge to exactly this address and nothing else; unset, they
   * have no way out at all.
   */
  egressUrl?: string;
  /** State directory of live isolated sandboxes. Default: <tmpdir>/berth-sandboxes. */
  stateDir?: string;
}

interface Binding {
  sandbox: LocalSandbox;
  claimed: ClaimedSandbox;
}

type Lifecycle = 'new' | 'running' | 'stopping';

export class LocalProcessBackend implements SandboxBackend {
  readonly kind = 'local' as const;
  readonly #profiles: readonly SandboxProfile[];
  readonly #options: Required<Pick<LocalProcessBackendOptions, 'host' | 'startTimeoutMs' | 'killGraceMs'>> & { agentEnv: Record<string, string> };
  readonly #logger: Logger;
  readonly #metrics: BackendMetrics;
  readonly #clock: Clock;
  readonly #pools = new Map<string, WarmPool<LocalSandbox>>();
  /** session → its sandbox. A dead sandbox stays bound until release, sweep or a new claim. */
  readonly #sessions = new Map<string, Binding>();
  /** Every process started and not yet confirmed gone: what stop() must kill. */
  readonly #live = new Set<LocalSandbox>();
  readonly #claims = new SingleFlight<string, ClaimedSandbox>();
  readonly #releases = new SingleFlight<string, void>();
  /** Aborts every start in flight when the backend stops. */
  readonly #abort = new AbortController();
  #lifecycle: Lifecycle = 'new';
  #stopped: Promise<void> | null = null;
  readonly #isolation: Isolation;
  readonly #stateDir: string;
  readonly #egress: EgressTarget[];

  constructor(options: LocalProcessBackendOptions) {
    this.#profiles = Object.freeze(options.profiles.map((profile) => Object.freeze({ ...profile })));
    this.#options = {
      host: options.host ?? '127.0.0.1',
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      killGraceMs: options.killGraceMs ?? 2000,
      agentEnv: { ...options.agentEnv },
    };
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.metrics ?? noopBackendMetrics;
    this.#clock = options.clock ?? systemClock;
    this.#isolation = resolveIsolation(options.isolation ?? 'auto');
    this.#stateDir = options.stateDir ?? path.join(os.tmpdir(), 'berth-sandboxes');
    this.#egress = options.egressUrl ? [egressTarget(options.egressUrl)] : [];
    // Every start in flight listens on this signal (a burst of cold starts is many at once); they
    // remove their listener when they settle, so the count is bounded by starts in flight, not a leak.
    setMaxListeners(0, this.#abort.signal);
    for (const profile of this.#profiles) {
      if (this.#pools.has(profile.name)) throw new Error(`duplicate sandbox profile name '${profile.name}'`);
      if (!Number.isInteger(profile.poolSize) || profile.poolSize < 0) throw new Error(`profile '${profile.name}': poolSize must be an integer >= 0`);
      this.#pools.set(profile.name, new WarmPool<LocalSandbox>({
        profile,
        policy: options.replenish,
        ...(options.refillDelayMs !== undefined ? { refillDelayMs: options.refillDelayMs } : {}),
        clock: this.#clock,
        logger: this.#logger,
        onReadyChange: (ready) => this.#metrics.standbyReady(profile.name, ready),
        factory: {
          create: (p, signal) => this.#startSandbox(p.name, AbortSignal.any([signal, this.#abort.signal]), true),
          destroy: (sandbox) => this.#kill(sandbox),
        },
      }));
      this.#metrics.standbyReady(profile.name, 0);
    }
  }

  profiles(): readonly SandboxProfile[] {
    return this.#profiles;
  }

  /**
   * True when each sandbox runs in its own namespaces. Then an egress connection's source
   * address is its sandbox's own (bridge-host.ts), and the egress gateway may check it.
   */
  get isolated(): boolean {
    return this.#isolation.kind === 'bwrap';
  }

  async start(): Promise<void> {
    if (this.#lifecycle !== 'new') return;
    this.#lifecycle = 'running';
    if (this.#isolation.kind === 'bwrap') {
      // What a gateway that died (kill -9, OOM) left behind on this host.
      const swept = await sweepDeadSandboxes(this.#stateDir);
      if (swept.length > 0) this.#logger.info({ removed: swept.length }, 'swept sandboxes of a dead gateway');
    } else if (this.#isolation.reason === 'missing') {
      this.#logger.warn({}, NOT_ISOLATED_WARNING);
    }
    for (const pool of this.#pools.values()) pool.start();
    this.#logger.info({ profiles: this.#profiles.map((p) => ({ name: p.name, poolSize: p.poolSize })) }, 'local backend started');
  }

  /**
   * Concurrent claims for one session share one sandbox (SingleFlight); a session that already
   * holds a live sandbox gets it back, whatever profile it names now. Standbys leave the pool
   * through the synchronous WarmPool.take(), so two claims never share one.
   */
  async claim(sessionId: string, profileName: string): Promise<ClaimedSandbox> {
    const pool = this.#pools.get(profileName);
    if (!pool) throw new SandboxError('unknown_profile', `no sandbox profile '${profileName}' (known: ${[...this.#pools.keys()].join(', ')})`);
    this.#assertRunning();
    const bound = this.#sessions.get(sessionId);
    if (bound && !bound.sandbox.exited) return bound.claimed;
    return this.#claims.run(sessionId, () => this.#bind(sessionId, pool));
  }

  async #bind(sessionId: string, pool: WarmPool<LocalSandbox>): Promise<ClaimedSandbox> {
    const profile = pool.profile.name;
    const startedMs = performance.now();
    const stale = this.#sessions.get(sessionId);
    if (stale) {
      // Its process died: the session moves to a fresh sandbox (the gateway resumes it from the transcript).
      this.#sessions.delete(sessionId);
      void this.#kill(stale.sandbox);
    }
    let sandbox: LocalSandbox;
    let outcome: ClaimOutcome = 'warm';
    try {
      const warm = await this.#takeHealthy(pool);
      if (warm) sandbox = warm;
      else {
        outcome = 'cold';
        this.#metrics.coldStart(profile);
        sandbox = await this.#startSandbox(profile, this.#abort.signal);
      }
      // Stopped while it was starting or being probed: it must not outlive stop().
      if (this.#lifecycle !== 'running') {
        await this.#kill(sandbox);
        throw new SandboxError('stopped', 'backend stopped during the claim');
      }
    } catch (error) {
      pool.recordClaim('failed');
      this.#metrics.claim(profile, 'failed', (performance.now() - startedMs) / 1000);
      this.#logger.warn({ sessionId, profile, err: error instanceof Error ? error.message : String(error) }, 'claim failed');
      throw error instanceof SandboxError ? error : new SandboxError('start_failed', 'local sandbox start failed', { cause: error });
    }
    pool.recordClaim(outcome);
    const durationS = (performance.now() - startedMs) / 1000;
    this.#metrics.claim(profile, outcome, durationS);
    // The idle clock starts now, at the claim, however long the standby waited in the pool.
    const claimed: ClaimedSandbox = { ...sandbox.endpoint, profile, outcome, claimedAt: this.#clock.now() };
    this.#sessions.set(sessionId, { sandbox, claimed });
    this.#logger.info({ sessionId, sandboxId: sandbox.id, profile, outcome, durationMs: Math.round(durationS * 1000) }, 'sandbox claimed');
    return claimed;
  }

  /** The oldest standby that still answers /health; dead or silent ones are killed and skipped. */
  async #takeHealthy(pool: WarmPool<LocalSandbox>): Promise<LocalSandbox | undefined> {
    for (let standby = pool.take(); standby !== undefined; standby = pool.take()) {
      // A loopback probe costs well under a millisecond and catches a standby that hung or died
      // since it became ready, before its session's first turn does. A dead process refuses at
      // once; the 5 s bound is for a hung one, and is generous so that a merely slow answer on a
      // saturated machine does not throw a healthy standby away.
      if (!standby.exited && (await probeHealth(standby.endpoint, 5000))) return standby;
      this.#logger.warn({ sandboxId: standby.id, profile: pool.profile.name }, 'standby unhealthy at claim; discarding');
      void this.#kill(standby);
    }
    return undefined;
  }

  /** Kills the session's sandbox. Idempotent; waits for a claim of the session in flight first. */
  async release(sessionId: string): Promise<void> {
    return this.#releases.run(sessionId, async () => {
      await this.#claims.get(sessionId)?.catch(() => {});
      const bound = this.#sessions.get(sessionId);
      if (!bound) return;
      this.#sessions.delete(sessionId);
      await this.#kill(bound.sandbox);
      this.#logger.info({ sessionId, sandboxId: bound.sandbox.id }, 'sandbox released');
    });
  }

  async pool(): Promise<PoolStatus[]> {
    return [...this.#pools.values()].map((pool) => {
      let claimed = 0;
      for (const { claimed: c } of this.#sessions.values()) if (c.profile === pool.profile.name) claimed += 1;
      return { ...pool.status(claimed), standbyIds: pool.readyStandbys().map((s) => s.id) };
    });
  }

  /**
   * Kills sandboxes of sessions `isOwned` denies, dead session sandboxes, and dead standbys.
   * A session whose ownership check throws is kept: sweeping on a guess would kill live turns.
   */
  async sweep(isOwned: (sessionId: string) => Promise<boolean>): Promise<SweepReport> {
    const removed: string[] = [];
    for (const pool of this.#pools.values()) {
      for (const standby of pool.readyStandbys()) {
        if (standby.exited && pool.remove(standby)) {
          removed.push(standby.id);
          void this.#kill(standby);
        }
      }
    }
    await Promise.all([...this.#sessions].map(async ([sessionId, bound]) => {
      let drop = bound.sandbox.exited;
      if (!drop) {
        try {
          drop = !(await isOwned(sessionId));
        } catch (error) {
          this.#logger.warn({ sessionId, err: error instanceof Error ? error.message : String(error) }, 'ownership check failed; keeping sandbox');
          return;
        }
      }
      // Re-check after the await: a release or re-claim may have replaced the binding meanwhile.
      if (!drop || this.#sessions.get(sessionId) !== bound) return;
      this.#sessions.delete(sessionId);
      removed.push(bound.sandbox.id);
      await this.#kill(bound.sandbox);
    }));
    if (removed.length > 0) this.#logger.info({ removed: removed.length }, 'sweep removed sandboxes');
    return { removed };
  }

  /** Kills every sandbox this backend started; resolves once every process group is gone. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#lifecycle = 'stopping';
      this.#abort.abort();
      await Promise.allSettled([...this.#pools.values()].map((pool) => pool.stop()));
      await this.#claims.settled();
      this.#sessions.clear();
      await Promise.allSettled([...this.#live].map((sandbox) => this.#kill(sandbox)));
      this.#logger.info({}, 'local backend stopped');
    })();
    return this.#stopped;
  }

  #assertRunning(): void {
    if (this.#lifecycle === 'new') throw new SandboxError('stopped', 'backend not started: call start() first');
    if (this.#lifecycle === 'stopping') throw new SandboxError('stopped', 'backend is stopping');
  }

  /** `standby`: for the pool, ready once its CLI is pre-started; a cold start for a claim waits only for /health. */
  async #startSandbox(profile: string, signal: AbortSignal, standby = false): Promise<LocalSandbox> {
    const sandbox = await startLocalSandbox({
      profile,
      host: this.#options.host,
      env: { ...this.#options.agentEnv, ...standbyAgentEnv(this.#profiles.find((p) => p.name === profile) ?? {}) },
      startTimeoutMs: this.#options.startTimeoutMs,
      signal,
      logger: this.#logger,
      awaitStandbyCli: standby,
      ...(this.#isolation.kind === 'bwrap' ? { jail: this.#jailOptions(this.#isolation, profile) } : {}),
    });
    this.#live.add(sandbox);
    void sandbox.process.exited.then(() => this.#onExit(sandbox));
    return sandbox;
  }

  #jailOptions(isolation: Extract<Isolation, { kind: 'bwrap' }>, profileName: string): JailOptions {
    const resources = this.#profiles.find((p) => p.name === profileName)?.resources;
    const taken = new Set<string>();
    for (const sandbox of this.#live) if (sandbox.sourceAddress) taken.add(sandbox.sourceAddress);
    return {
      isolation,
      stateDir: this.#stateDir,
      egress: this.#egress,
      limits: limitsFor(resources?.memoryLimitMiB ?? resources?.memoryMiB),
      takenAddresses: taken,
    };
  }

  /** A process ended. A standby is replaced by its pool; a session's sandbox stays bound, marked dead. */
  #onExit(sandbox: LocalSandbox): void {
    if (!sandbox.killRequested) {
      const { exitCode, signalCode } = sandbox.process.child;
      this.#logger.warn({ sandboxId: sandbox.id, profile: sandbox.profile, exitCode, signalCode }, 'agent process exited unexpectedly');
    }
    this.#pools.get(sandbox.profile)?.remove(sandbox);
    // Reap the rest of its process group (the CLI), then forget it.
    void this.#kill(sandbox);
  }

  #kill(sandbox: LocalSandbox): Promise<void> {
    sandbox.killRequested = true;
    return sandbox.process.kill(this.#options.killGraceMs).finally(() => this.#live.delete(sandbox));
  }
}

/** host:port of the egress URL; the host must be an IP literal (sandboxes resolve no names). */
function egressTarget(url: string): EgressTarget {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (host === 'localhost') return { host: '127.0.0.1', port };
  if (!/^[0-9.]+$/.test(host) && !host.includes(':')) {
    throw new Error(`isolated local sandboxes need an IP-literal egress URL (got ${url}); use 127.0.0.1, or BERTH_LOCAL_ISOLATION=off`);
  }
  return { host, port };
}
