// The chart configurations every deploy test renders: the defaults, the documented variants
// (tests/deploy/values/*.yaml) and the kind quickstart's values. Adding a scenario here puts it
// through lint, schema validation and the security assertions at once.
import path from 'node:path';
import { repoRoot, valuesDir, type RenderOptions } from './render-chart.js';

export interface Scenario extends RenderOptions {
  name: string;
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
  { name: 'kind', files: [path.join(repoRoot, 'kind', 'values.yaml')] },
  { name: 'manifests', files: [path.join(repoRoot, 'deploy', 'manifests', 'values.yaml')] },
];

/** Kinds the chart renders that kubernetes-models has no schema for (CRDs). */
export const CUSTOM_KINDS = new Set(['ServiceMonitor']);
