// Binds a session to a pod: the existing one if the session already has one, else a ready
// standby taken with the atomic claim patch (pod-claim.ts), else a cold-started pod created
// already bound. A pod is handed out only after its agent answered /health at podIP:port.
// Standbys are tried in random order so replicas claiming at once rarely collide; a lost race
// (422/409/404) marks that pod version as taken here and the next candidate is tried.

import type { V1Pod } from '@kubernetes/client-node';
import { waitForHealth } from '../../agent-client.js';
import type { ClaimOutcome, SandboxEndpoint } from '../../backend.js';
import type { SandboxProfile } from '../../profile.js';
import { SandboxError } from '../../errors.js';
import { KubeApiError, type PodApi } from './kube-api.js';
import type { PodCache } from './pod-cache.js';
import { buildClaimPatch, isLostRace } from './pod-claim.js';
import { LABEL_SESSION, sessionLabelValue } from './pod-labels.js';
import { isFailed, isLive, isReady, podName, profileOf, sessionOf, stateOf } from './pod-status.js';

export interface PodClaimerOptions {
  api: PodApi;
  cache: PodCache;
  agentPort: number;
  /** The pod's agent token, or null when this gateway cannot derive it. */
  tokenFor: (pod: V1Pod) => string | null;
  /** A pod manifest already bound to the session, for a cold start. */
  makeCold: (profile: SandboxProfile, sessionId: string, claimedAtIso: string) => V1Pod;
  now: () => number;
  signal: AbortSignal;
  coldStartTimeoutMs: number;
  warmHealthTimeoutMs: number;
}

export interface PodClaimResult extends SandboxEndpoint {
  outcome: ClaimOutcome;
}

export class PodClaimer {
  /** Pod name → resourceVersion at which this replica lost a claim race on it. */
  private readonly lost = new Map<string, string>();

  constructor(private readonly options: PodClaimerOptions) {}

  async claim(sessionId: string, profile: SandboxProfile): Promise<PodClaimResult> {
    const { cache } = this.options;
    const label = sessionLabelValue(sessionId);
    const existing = [...cache.pods.values()].find((pod) => pod.metadata?.labels?.[LABEL_SESSION] === label && sessionOf(pod) === sessionId && isLive(pod));
    if (existing) return this.whenHealthy(existing, 'warm', this.options.coldStartTimeoutMs);

    for (let attempt = 0; attempt < 64; attempt++) {
      const candidate = this.pickStandby(profile.name);
      if (!candidate) break;
      let claimed: V1Pod;
      try {
        claimed = await this.options.api.patch(podName(candidate), buildClaimPatch(candidate, sessionId, new Date(this.options.now()).toISOString()));
      } catch (error) {
        if (error instanceof KubeApiError && (isLostRace(error.status) || (error.status ?? 0) >= 500)) {
          this.lost.set(podName(candidate), candidate.metadata?.resourceVersion ?? '');
          continue;
        }
        throw translate(error);
      }
      cache.upsert(claimed);
      try {
        return await this.whenHealthy(claimed, 'warm', this.options.warmHealthTimeoutMs);
      } catch {
        // A standby that looked ready but does not answer is of no use to anyone: remove it and try the next.
        await this.options.api.delete(podName(claimed), { gracePeriodS: 0 }).catch(() => undefined);
      }
    }
    return this.coldStart(sessionId, profile);
  }

  private pickStandby(profile: string): V1Pod | undefined {
    const candidates: V1Pod[] = [];
    for (const pod of this.options.cache.pods.values()) {
      if (profileOf(pod) !== profile || stateOf(pod) !== 'standby' || !isLive(pod) || !isReady(pod)) continue;
      if (this.lost.get(podName(pod)) === pod.metadata?.resourceVersion) continue;
      if (this.options.tokenFor(pod) === null) continue;
      candidates.push(pod);
    }
    // Forget lost races on pods that are gone, so the map stays as small as the pool.
    for (const name of this.lost.keys()) if (!this.options.cache.pods.has(name)) this.lost.delete(name);
    return candidates[Math.floor(Math.random() * candidates.length)];
  }

  private async coldStart(sessionId: string, profile: SandboxProfile): Promise<PodClaimResult> {
    const manifest = this.options.makeCold(profile, sessionId, new Date(this.options.now()).toISOString());
    let created: V1Pod;
    try {
      created = await this.options.api.create(manifest);
    } catch (error) {
      throw translate(error);
    }
    this.options.cache.upsert(created);
    try {
      return await this.whenHealthy(created, 'cold', this.options.coldStartTimeoutMs);
    } catch (error) {
      await this.options.api.delete(podName(created), { gracePeriodS: 0 }).catch(() => undefined);
      throw error;
    }
  }

  /** Waits (on watch events) for the pod to run with an IP, then for its agent's /health. */
  private async whenHealthy(pod: V1Pod, outcome: ClaimOutcome, timeoutMs: number): Promise<PodClaimResult> {
    const name = podName(pod);
    const token = this.options.tokenFor(pod);
    if (token === null) throw new SandboxError('start_failed', `pod ${name} was made with a token key this gateway does not hold`);
    const deadline = Date.now() + timeoutMs;
    let ready: V1Pod;
    try {
      ready = await this.options.cache.waitFor(name, (p) => {
        if (!p) return `pod ${name} disappeared`;
        if (isFailed(p)) return `pod ${name} failed`;
        if (p.metadata?.deletionTimestamp) return `pod ${name} is being deleted`;
        return isReady(p) ? 'ok' : 'wait';
      }, timeoutMs, this.options.signal);
    } catch (error) {
      const message = (error as Error).message;
      throw new SandboxError(/within/.test(message) ? 'timeout' : message === 'stopped' ? 'stopped' : 'start_failed', message);
    }
    const endpoint = { sandboxId: name, url: `http://${ready.status!.podIP}:${this.options.agentPort}`, authToken: token };
    await waitForHealth(endpoint, { timeoutMs: Math.max(500, deadline - Date.now()), signal: this.options.signal });
    return { ...endpoint, outcome };
  }
}

/** Platform failures → SandboxError at the adapter edge. Messages carry status codes only. */
export function translate(error: unknown): SandboxError {
  if (error instanceof SandboxError) return error;
  if (error instanceof KubeApiError) {
    // 403 on create is a ResourceQuota refusal; 429 left after retries is load shedding.
    if (error.status === 403 || error.status === 429) return new SandboxError('capacity_exhausted', error.message, { cause: error });
    return new SandboxError('unavailable', error.message, { cause: error });
  }
  return new SandboxError('unavailable', `kubernetes call failed: ${(error as Error).message}`, { cause: error });
}
