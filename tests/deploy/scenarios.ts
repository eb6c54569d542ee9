// The chart configurations every deploy test renders: the defaults, the documented variants
// (tests/deploy/values/*.yaml) and the kind quickstart's values. Adding a scenario here puts it
// through lint, schema validation and the security assertions at once.
import path from 'node:path';
import { repoRoot, valuesDir, type RenderOptions } from './render-chart.js';

export interface Scenario extends RenderOptions {
  name: string;
  /** Where sandboxes run in this scenario (values `backend`). Default kubernetes. */
  backend?: 'kubernetes' | 'modal';
}

const file = (name: string) => path.join(valuesDir, `${name}.yaml`);

export const scenarios: Scenario[] = [
  { name: 'default' },
  { name: 'external-redis', files: [file('external-redis')] },
  { name: 'bundled-redis', files: [file('bundled-redis')] },
  { name: 'hpa', files: [file('hpa')] },
  { name: 'service-monitor', files: [file('service-monitor')] },
  { name: 'two-profiles', files: [file('two-profiles')] },
  // A model key from a Secret, so the "only the egress gateway gets it" checks have a key to track.
  { name: 'model-key', values: [{ modelApiKey: { existingSecret: 'anthropic' } }] },
  { name: 'redis-sentinel', files: [file('redis-sentinel')] },
  { name: 'redis-cluster', files: [file('redis-cluster')] },
  // Ingress, HTTPRoute and every escape hatch (volumes, priority, spread, labels, registry).
  { name: 'caller-ingress', files: [file('caller-ingress')] },
  { name: 'modal-loadbalancer', backend: 'modal', files: [file('modal-loadbalancer')] },
  { name: 'modal-ingress', backend: 'modal', files: [file('modal-ingress')] },
  { name: 'kind', files: [path.join(repoRoot, 'kind', 'values.yaml')] },
  { name: 'manifests', files: [path.join(repoRoot, 'deploy', 'manifests', 'values.yaml')] },
];

/** Kinds the chart renders that kubernetes-models has no schema for (CRDs). */
export const CUSTOM_KINDS = new Set(['ServiceMonitor', 'HTTPRoute']);

export const kubernetesScenarios = scenarios.filter((s) => (s.backend ?? 'kubernetes') === 'kubernetes');
export const modalScenarios = scenarios.filter((s) => s.backend === 'modal');
