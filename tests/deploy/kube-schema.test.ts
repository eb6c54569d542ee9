// The schema check the render tests rely on must itself catch what it claims to: a wrong type,
// a missing required field and an unknown field (a typo that the API server would drop or reject).
import { describe, expect, test } from 'vitest';
import { kubeSchemaProblems, schemaModuleName } from './kube-schema.js';
import type { KubeObject } from './render-chart.js';

const deployment = (podSpec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', labels: { a: 'b' } },
  spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: podSpec } },
});

describe('kubeSchemaProblems', () => {
  test('maps apiVersion and kind to the kubernetes-models schema', () => {
    expect(schemaModuleName('v1', 'Service')).toBe('IoK8sApiCoreV1Service');
    expect(schemaModuleName('rbac.authorization.k8s.io/v1', 'Role')).toBe('IoK8sApiRbacV1Role');
    expect(schemaModuleName('autoscaling/v2', 'HorizontalPodAutoscaler')).toBe('IoK8sApiAutoscalingV2HorizontalPodAutoscaler');
  });

  test('accepts a valid object, including free-form maps (labels, resources)', async () => {
    const ok = deployment({ containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '1Gi' } } }] });
    expect(await kubeSchemaProblems(ok)).toEqual([]);
  });

  test('reports a wrong type and a missing required field', async () => {
    const bad = deployment({ containers: [{ image: 'i', ports: [{ containerPort: 'http' }] }] });
    const problems = await kubeSchemaProblems(bad);
    expect(problems.join('\n')).toMatch(/containers\/0 .*name/);
  });

  test('reports unknown fields once, at their top', async () => {
    const typo = deployment({ containers: [{ name: 'c', image: 'i', readinesProbe: { httpGet: { path: '/readyz' } } }] });
    expect(await kubeSchemaProblems(typo)).toEqual(['Deployment/x: unknown field /spec/template/spec/containers/0/readinesProbe']);
  });
});
