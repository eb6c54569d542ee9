// Backend metrics on a registry the caller passes in (the gateway's private registry; never
// prom-client's global one, so two backends in one test process never collide and nothing leaks
// between tests). Backends report through the small BackendMetrics interface, so pool code and
// tests can use noopBackendMetrics without prom-client. Labels come from small closed sets only:
// backend kind, claim outcome and profile name (from configuration, a handful per deployment).

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BackendKind } from './backend.js';

export type ClaimMetricOutcome = 'warm' | 'cold' | 'failed';

export interface BackendMetrics {
  /** One finished claim: how it was served (or that it failed) and how long the caller waited. */
  claim(profile: string, outcome: ClaimMetricOutcome, durationS: number): void;
  /** The number of ready standbys of a profile, after every change. */
  standbyReady(profile: string, ready: number): void;
  /** One cold start begun for a claim (counted even when it then fails; claims_total says how it ended). */
  coldStart(profile: string): void;
}

export const noopBackendMetrics: BackendMetrics = { claim() {}, standbyReady() {}, coldStart() {} };

/**
 * Claim latency buckets in seconds: warm claims land in 1–50 ms (local, loopback health probe)
 * to ~100 ms (cluster); cold starts in ~1 s (local process) to tens of seconds (pod scheduling,
 * image pull). Moving them changes the dashboards' quantile resolution, not behaviour.
 */
export const CLAIM_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Registers (or reuses, when another backend on the same registry already did) the metrics. */
export function createBackendMetrics(registry: Registry, backend: BackendKind): BackendMetrics {
  const claims = reuse(registry, 'berth_orchestrator_claims_total', () =>
    new Counter({ name: 'berth_orchestrator_claims_total', help: 'Sandbox claims by outcome: warm (from the pool), cold (pool miss, started for the claim) or failed.', labelNames: ['backend', 'outcome'], registers: [registry] }),
  );
  const duration = reuse(registry, 'berth_orchestrator_claim_duration_seconds', () =>
    new Histogram({ name: 'berth_orchestrator_claim_duration_seconds', help: 'Time from claim() to a healthy sandbox (or failure), by outcome.', labelNames: ['backend', 'outcome'], buckets: CLAIM_DURATION_BUCKETS_S, registers: [registry] }),
  );
  const ready = reuse(registry, 'berth_orchestrator_standby_ready', () =>
    new Gauge({ name: 'berth_orchestrator_standby_ready', help: 'Healthy unclaimed standbys per profile.', labelNames: ['backend', 'profile'], registers: [registry] }),
  );
  const coldStarts = reuse(registry, 'berth_orchestrator_cold_starts_total', () =>
    new Counter({ name: 'berth_orchestrator_cold_starts_total', help: 'Cold starts begun because a claim found no ready standby.', labelNames: ['backend', 'profile'], registers: [registry] }),
  );
  return {
    claim(_profile, outcome, durationS) {
      claims.inc({ backend, outcome });
      duration.observe({ backend, outcome }, durationS);
    },
    standbyReady(profile, count) {
      ready.set({ backend, profile }, count);
    },
    coldStart(profile) {
      coldStarts.inc({ backend, profile });
    },
  };
}

function reuse<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}
