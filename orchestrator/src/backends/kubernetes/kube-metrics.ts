// The one metric only this backend has: Kubernetes API errors by status code. Claim and pool
// metrics come from the shared orchestrator metrics (../../metrics.ts). Registered in the
// injected registry (reused when another backend instance on it already did).

import { Counter, type Registry } from 'prom-client';

export interface KubeApiMetrics {
  /** `code`: the HTTP status as a string, or 'network' when no status came back. */
  apiError(code: string): void;
}

export const noopKubeApiMetrics: KubeApiMetrics = { apiError: () => undefined };

export function createKubeApiMetrics(registry: Registry): KubeApiMetrics {
  const name = 'berth_orchestrator_kube_api_errors_total';
  const counter = (registry.getSingleMetric(name) as Counter<'code'> | undefined) ?? new Counter({
    name,
    help: 'Kubernetes API calls that failed, by HTTP status code (or network). 409/422 include lost claim races, which are expected.',
    labelNames: ['code'],
    registers: [registry],
  });
  return { apiError: (code) => counter.inc({ code }) };
}
