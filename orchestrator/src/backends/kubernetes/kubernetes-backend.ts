// KubernetesBackend: SandboxBackend over pods in one namespace. Composition only: the pod
// mirror (pod-cache.ts) feeds the pool loop (standby-pool.ts) and the claims (pod-claim.ts);
// kube-api.ts is the only thing that talks to the API server. Runtime model, RBAC and the
// agent-token design: README.md. Every method is safe on every gateway replica at once: the
// API server's JSON Patch `test`, resourceVersion preconditions and name uniqueness arbitrate.

import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Registry } from 'prom-client';
import type { V1Pod } from '@kubernetes/client-node';
import type { BackendKind, ClaimedSandbox, PoolStatus, SandboxBackend, SweepReport } from '../../backend.js';
import type { SandboxProfile } from '../../profile.js';
import { SandboxError } from '../../errors.js';
import { AgentTokenKeyring, newTokenNonce, tokenSha256, type TokenKey } from './agent-token.js';
import { createPodApi, KubeApiError, type PodApi } from './kube-api.js';
import { createBackendMetrics, noopBackendMetrics, type BackendMetrics } from '../../metrics.js';
import { createKubeApiMetrics, noopKubeApiMetrics, type KubeApiMetrics } from './kube-metrics.js';
import { PodCache, type PodCacheStats } from './pod-cache.js';
import { ANNOTATION_TOKEN_KID, ANNOTATION_TOKEN_NONCE, LABEL_SESSION, poolSelector, sessionLabelValue } from './pod-labels.js';
import { buildPodManifest, coldPodName, isValidLabelValue, isValidPoolName, podSpecHash } from './pod-manifest.js';
import { claimedAtMs, isFailed, isTerminating, podName, sessionOf, stateOf } from './pod-status.js';
import { StandbyPool, countPods } from './standby-pool.js';
import { PodClaimer, translate } from './pod-claimer.js';

export interface KubernetesBackendOptions {
  profiles: readonly SandboxProfile[];
  /** Sandbox namespace (BERTH_KUBE_NAMESPACE). Default 'berth-sandboxes'. */
  namespace?: string;
  /** kubeconfig file (BERTH_KUBECONFIG); unset = in-cluster service account. */
  kubeconfigPath?: string;
  /** Image for profiles that name none (BERTH_AGENT_IMAGE). Default 'berth-agent:latest'. */
  agentImage?: string;
  /** Agent server port inside each pod. Default 8000. */
  agentPort?: number;
  /** Installation name, the `berth.dev/pool` label and pod-name prefix (DNS label, ≤ 20). Default 'berth'. */
  pool?: string;
  /**
   * Keys the agent tokens are derived from; the same on every replica (pass the parsed
   * BERTH_CREDENTIAL_KEYS: the derivation is domain-separated). Unset: one random key, which is
   * only correct with a single replica, and strands existing standbys on restart.
   */
  tokenKeys?: readonly TokenKey[];
  /** Non-secret environment for every agent (egress URLs). Never tenant data: standbys are shared. */
  agentEnv?: Record<string, string>;
  /** See StandbyPoolOptions. Default 4. */
  maxConcurrentCreates?: number;
  /** Standby slots replaced at once after an upgrade (StandbyPoolOptions.maxSurge). Default 1. */
  recycleMaxSurge?: number;
  /** See PodCacheOptions. Default 90 000 ms. */
  watchSilenceTimeoutMs?: number;
  /** Bound on a cold start (create → healthy). Default 120 000 ms: covers an image pull on a warm node. */
  coldStartTimeoutMs?: number;
  /** Bound on a warm standby answering /health after its claim. Default 5 000 ms. */
  warmHealthTimeoutMs?: number;
  /**
   * sweep() leaves claimed pods younger than this alone. Default 60 000 ms: a session's route
   * is written after claim() returns, so a sweep on another replica must not race that write.
   */
  sweepGraceMs?: number;
  /** Claim and pool metrics; default: createBackendMetrics(registry, 'kubernetes'), or none without a registry. */
  metrics?: BackendMetrics;
  /** prom-client registry for the metrics (the gateway's private one). */
  registry?: Registry;
  onWarn?: (message: string) => void;
  now?: () => number;
  /** Tests: a ready-made API adapter instead of one built from a kubeconfig. */
  podApi?: PodApi;
}

export class KubernetesBackend implements SandboxBackend {
  readonly kind: BackendKind = 'kubernetes';
  private readonly namespace: string;
  private readonly poolName: string;
  private readonly agentPort: number;
  private readonly keyring: AgentTokenKeyring;
  private readonly profileMap: Map<string, SandboxProfile>;
  private readonly stopController = new AbortController();
  private readonly now: () => number;
  private readonly metrics: BackendMetrics;
  private readonly apiMetrics: KubeApiMetrics;
  private api: PodApi | null = null;
  private cache: PodCache | null = null;
  private standby: StandbyPool | null = null;
  private claimer: PodClaimer | null = null;
  private starting: Promise<void> | null = null;
  private stopped = false;
  private readonly claimCounts = new Map<string, { warm: number; cold: number }>();

  constructor(private readonly options: KubernetesBackendOptions) {
    this.namespace = options.namespace ?? 'berth-sandboxes';
    this.poolName = options.pool ?? 'berth';
    this.agentPort = options.agentPort ?? 8000;
    this.now = options.now ?? Date.now;
    // Every claim in flight waits on the stop signal; hundreds at once are normal, not a leak.
    setMaxListeners(0, this.stopController.signal);
    if (!isValidPoolName(this.poolName)) throw new SandboxError('invalid_config', `pool name '${this.poolName}' must be a DNS label of at most 20 characters`);
    for (const profile of options.profiles) {
      if (!isValidLabelValue(profile.name) || profile.name === '') throw new SandboxError('invalid_config', `profile name '${profile.name}' is not a valid Kubernetes label value`);
      if (!Number.isInteger(profile.poolSize) || profile.poolSize < 0 || profile.poolSize > 1000) throw new SandboxError('invalid_config', `profile '${profile.name}': poolSize must be an integer in 0..1000`);
    }
    this.profileMap = new Map(options.profiles.map((p) => [p.name, p]));
    this.keyring = options.tokenKeys && options.tokenKeys.length > 0 ? new AgentTokenKeyring(options.tokenKeys) : AgentTokenKeyring.ephemeral();
    this.metrics = options.metrics ?? (options.registry ? createBackendMetrics(options.registry, 'kubernetes') : noopBackendMetrics);
    this.apiMetrics = options.registry ? createKubeApiMetrics(options.registry) : noopKubeApiMetrics;
  }

  profiles(): readonly SandboxProfile[] {
    return this.options.profiles;
  }

  /** Watch statistics, for tests and /api/pool diagnostics. */
  watchStats(): PodCacheStats | null {
    return this.cache ? { ...this.cache.stats } : null;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const api = this.options.podApi ?? await createPodApi({
      namespace: this.namespace,
      ...(this.options.kubeconfigPath ? { kubeconfigPath: this.options.kubeconfigPath } : {}),
      metrics: this.apiMetrics,
      signal: this.stopController.signal,
    });
    this.api = api;
    const warn = this.options.onWarn ?? (() => undefined);
    const cache = new PodCache({
      api,
      labelSelector: poolSelector(this.poolName),
      ...(this.options.watchSilenceTimeoutMs !== undefined ? { silenceTimeoutMs: this.options.watchSilenceTimeoutMs } : {}),
      onChange: () => this.standby?.schedule(),
      onWarn: warn,
    });
    this.cache = cache;
    this.standby = new StandbyPool({
      api,
      pool: this.poolName,
      profiles: this.options.profiles,
      pods: () => [...cache.pods.values()],
      usable: (pod) => this.keyring.has(pod.metadata?.annotations?.[ANNOTATION_TOKEN_KID] ?? ''),
      makeStandby: (profile, slot, name) => this.manifest(profile, name, { slot }),
      specHash: (profile) => podSpecHash({ profile, defaultImage: this.defaultImage, ...(this.options.agentEnv ? { env: this.options.agentEnv } : {}) }),
      ...(this.options.recycleMaxSurge !== undefined ? { maxSurge: this.options.recycleMaxSurge } : {}),
      ...(this.options.maxConcurrentCreates !== undefined ? { maxConcurrentCreates: this.options.maxConcurrentCreates } : {}),
      onCreated: (pod) => cache.upsert(pod),
      onReconciled: (profile, counts) => this.metrics.standbyReady(profile, counts.ready),
      onWarn: warn,
    });
    this.claimer = new PodClaimer({
      api,
      cache,
      agentPort: this.agentPort,
      tokenFor: (pod) => this.tokenFor(pod),
      makeCold: (profile, sessionId, claimedAtIso) => {
        this.metrics.coldStart(profile.name);
        return this.manifest(profile, coldPodName(this.poolName, profile.name, randomBytes(5).toString('hex')), { session: { id: sessionId, claimedAtIso } });
      },
      now: this.now,
      signal: this.stopController.signal,
      coldStartTimeoutMs: this.options.coldStartTimeoutMs ?? 120_000,
      warmHealthTimeoutMs: this.options.warmHealthTimeoutMs ?? 5_000,
    });
    cache.start();
    // Resolve once the first list landed (or failed: the loop keeps retrying and /readyz shows it).
    await Promise.race([cache.firstSync, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  }

  /** Ready while the API server answers the pod list/watch; /readyz turns 503 otherwise. */
  healthy(): boolean {
    return !this.stopped && (this.cache?.reachable ?? false);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopController.abort();
    await this.starting?.catch(() => undefined);
    await this.standby?.stop();
    await this.cache?.stop();
    // Pods stay: the cluster owns them, and other replicas (or the next start) keep using them.
  }

  async claim(sessionId: string, profileName: string): Promise<ClaimedSandbox> {
    const profile = this.profileMap.get(profileName);
    if (!profile) throw new SandboxError('unknown_profile', `no sandbox profile named '${profileName}'`);
    const inflight = this.inflight.get(sessionId);
    if (inflight) return inflight;
    const work = this.doClaim(sessionId, profile);
    this.inflight.set(sessionId, work);
    try {
      return await work;
    } finally {
      this.inflight.delete(sessionId);
    }
  }

  private readonly inflight = new Map<string, Promise<ClaimedSandbox>>();

  private async doClaim(sessionId: string, profile: SandboxProfile): Promise<ClaimedSandbox> {
    const claimer = await this.ready();
    const startedMs = this.now();
    try {
      const result = await claimer.claim(sessionId, profile);
      const claimedAt = this.now();
      this.metrics.claim(profile.name, result.outcome, (claimedAt - startedMs) / 1000);
      const counts = this.claimCounts.get(profile.name) ?? { warm: 0, cold: 0 };
      counts[result.outcome]++;
      this.claimCounts.set(profile.name, counts);
      return { sandboxId: result.sandboxId, url: result.url, authToken: result.authToken, profile: profile.name, outcome: result.outcome, claimedAt };
    } catch (error) {
      this.metrics.claim(profile.name, 'failed', (this.now() - startedMs) / 1000);
      throw this.stopped ? new SandboxError('stopped', 'kubernetes backend is stopping', { cause: error }) : translate(error);
    }
  }

  async release(sessionId: string): Promise<void> {
    const api = this.requireApi();
    // A claim of this session still in flight on this replica would bind a pod after we looked.
    await this.inflight.get(sessionId)?.catch(() => undefined);
    let pods: V1Pod[];
    try {
      pods = (await api.list(`${poolSelector(this.poolName)},${LABEL_SESSION}=${sessionLabelValue(sessionId)}`)).items;
    } catch (error) {
      throw translate(error);
    }
    for (const pod of pods) {
      if (sessionOf(pod) !== sessionId || isTerminating(pod)) continue;
      try {
        await api.delete(podName(pod));
      } catch (error) {
        throw translate(error);
      }
    }
  }

  async pool(): Promise<PoolStatus[]> {
    const pods = [...(this.cache?.pods.values() ?? [])];
    return this.options.profiles.map((profile) => {
      const counts = countPods(profile.name, pods);
      const claims = this.claimCounts.get(profile.name) ?? { warm: 0, cold: 0 };
      return { profile: profile.name, target: profile.poolSize, ...counts, coldStarts: claims.cold, warmClaims: claims.warm };
    });
  }

  async sweep(isOwned: (sessionId: string) => Promise<boolean>): Promise<SweepReport> {
    const api = this.requireApi();
    const graceMs = this.options.sweepGraceMs ?? 60_000;
    let pods: V1Pod[];
    try {
      // A fresh list, not the mirror: deleting on a stale view could remove a pod just claimed.
      pods = (await api.list(poolSelector(this.poolName))).items;
    } catch (error) {
      throw translate(error);
    }
    const removed: string[] = [];
    for (const pod of pods) {
      if (isTerminating(pod)) continue;
      let remove = isFailed(pod);
      if (!remove && stateOf(pod) === 'claimed') {
        const sessionId = sessionOf(pod);
        const claimedAt = claimedAtMs(pod) ?? 0;
        if (this.now() - claimedAt < graceMs) continue;
        remove = sessionId === undefined || !(await isOwned(sessionId));
      }
      if (!remove) continue;
      try {
        // Precondition: if the pod changed since the list (claimed, re-labelled), leave it.
        if ((await api.delete(podName(pod), { resourceVersion: pod.metadata?.resourceVersion ?? '', ...(isFailed(pod) ? { gracePeriodS: 0 } : {}) })) === 'deleted') removed.push(podName(pod));
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 409)) throw translate(error);
      }
    }
    return { removed };
  }

  private tokenFor(pod: V1Pod): string | null {
    const annotations = pod.metadata?.annotations ?? {};
    const kid = annotations[ANNOTATION_TOKEN_KID];
    const nonce = annotations[ANNOTATION_TOKEN_NONCE];
    if (!kid || !nonce) return null;
    return this.keyring.tokenFor(kid, podName(pod), nonce);
  }

  private get defaultImage(): string {
    return this.options.agentImage ?? 'berth-agent:latest';
  }

  private manifest(profile: SandboxProfile, name: string, extra: { slot?: number; session?: { id: string; claimedAtIso: string } }): V1Pod {
    const nonce = newTokenNonce();
    const kid = this.keyring.signingKid;
    const token = this.keyring.tokenFor(kid, name, nonce)!;
    return buildPodManifest({
      profile,
      name,
      namespace: this.namespace,
      pool: this.poolName,
      defaultImage: this.defaultImage,
      agentPort: this.agentPort,
      state: extra.session ? 'claimed' : 'standby',
      ...extra,
      token: { kid, nonce, sha256Hex: tokenSha256(token) },
      ...(this.options.agentEnv ? { env: this.options.agentEnv } : {}),
    });
  }

  private async ready(): Promise<PodClaimer> {
    if (this.stopped) throw new SandboxError('stopped', 'kubernetes backend is stopped');
    if (!this.starting) throw new SandboxError('stopped', 'kubernetes backend is not started');
    await this.starting;
    await this.cache!.firstSync;
    return this.claimer!;
  }

  private requireApi(): PodApi {
    if (!this.api) throw new SandboxError('stopped', 'kubernetes backend is not started');
    return this.api;
  }
}
