// The KubernetesBackend's metrics, behind a small interface so the backend never depends on how
// the process exposes them. promKubernetesMetrics() registers them in an injected prom-client
// registry, reusing a metric another module already registered under the same name (the
// shared orchestrator metrics may define the claim counters for every backend).

import type { Registry } from 'prom-client';

export type ClaimMetricOutcome = 'warm' | 'cold' | 'failed';

export interface KubernetesBackendMetrics {
  claimFinished(outcome: ClaimMetricOutcome, durationS: number): void;
  standbyReady(profile: string, count: number): void;
  /** `code`: the HTTP status as a string, or 'network' when no status came back. */
  apiError(code: string): void;
}

export const noopKubernetesMetrics: KubernetesBackendMetrics = {
  claimFinished: () => undefined,
  standbyReady: () => undefined,
  apiError: () => undefined,
};

const BACKEND = 'kubernetes';

export async function promKubernetesMetrics(registry: Registry): Promise<KubernetesBackendMetrics> {
  const prom = await import('prom-client');
  const getOr = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const claims = getOr('berth_orchestrator_claims_total', () => new prom.Counter({
    name: 'berth_orchestrator_claims_total',
    help: 'Sandbox claims by backend and outcome (warm: from the pool, cold: pool miss, failed).',
    labelNames: ['backend', 'outcome'],
    registers: [registry],
  }));
  const duration = getOr('berth_orchestrator_claim_duration_seconds', () => new prom.Histogram({
    name: 'berth_orchestrator_claim_duration_seconds',
    help: 'Time from claim() to a healthy sandbox, by backend and outcome.',
    labelNames: ['backend', 'outcome'],
    // Warm claims land in tens of ms; cold pod starts in seconds (image pull excluded).
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  }));
  const ready = getOr('berth_orchestrator_standby_ready', () => new prom.Gauge({
    name: 'berth_orchestrator_standby_ready',
    help: 'Healthy unclaimed standby sandboxes per backend and profile.',
    labelNames: ['backend', 'profile'],
    registers: [registry],
  }));
  const apiErrors = getOr('berth_orchestrator_kube_api_errors_total', () => new prom.Counter({
    name: 'berth_orchestrator_kube_api_errors_total',
    help: 'Kubernetes API calls that failed, by HTTP status code (or network).',
    labelNames: ['code'],
    registers: [registry],
  }));
  return {
    claimFinished(outcome, durationS) {
      claims.inc({ backend: BACKEND, outcome });
      duration.observe({ backend: BACKEND, outcome }, durationS);
    },
    standbyReady(profile, count) {
      ready.set({ backend: BACKEND, profile }, count);
    },
    apiError(code) {
      apiErrors.inc({ code });
    },
  };
}
