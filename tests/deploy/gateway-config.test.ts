// What the chart renders, read by the gateway's own parsers: the tenants file (Secret) with
// parseTenants, the profiles file (ConfigMap) with parseProfiles, and both gateways' environment
// with loadConfig. The chart's schema is a first line; these are what the process will accept.
import { loadConfig } from '@berth/gateway/testing';
import { redisConnectionFromConfig } from '@berth/gateway/testing';
import { modalOptionsFromEnv } from '@berth/orchestrator/modal';
import { parseProfiles } from '@berth/gateway/testing';
import { parseTenants } from '@berth/gateway/tenants';
import { beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { podTemplate, resolveEnv } from './pod-spec.js';
import { one, renderChart, type KubeObject } from './render-chart.js';
import { scenarios } from './scenarios.js';

const rendered = new Map<string, KubeObject[]>();
beforeAll(async () => {
  for (const s of scenarios) rendered.set(s.name, await renderChart(s));
});

const standIn = (name: string, key: string) =>
  key === 'keys' ? `k1:${Buffer.alloc(32, 7).toString('base64')}` : name.endsWith('redis-url') ? 'redis://redis.example:6379' : 'stand-in-secret';

describe.each(scenarios)('scenario $name', ({ name, backend }) => {
  const objs = () => rendered.get(name)!;

  test('the profiles file parses with the gateway parser and keeps every profile', () => {
    const text = (one(objs(), 'ConfigMap', 'berth-profiles').data as Record<string, string>)['profiles.yaml']!;
    const profiles = parseProfiles(text);
    expect(profiles.length).toBeGreaterThan(0);
    for (const p of profiles) expect(p.image).toMatch(/\S/);
  });

  test('a chart-rendered tenants file parses with the gateway parser', () => {
    const secret = objs().find((o) => o.kind === 'Secret' && o.metadata.name === 'berth-tenants');
    if (!secret) return expect(name).toMatch(/^(kind|manifests)$/); // tenants come from a user Secret there
    const directory = parseTenants((secret.stringData as Record<string, string>)['tenants.yaml']!);
    if (name === 'two-profiles') expect([...directory.tenants.keys()].sort()).toEqual(['alice', 'bob']);
  });

  test('both gateways\' environments pass loadConfig', () => {
    for (const workload of ['berth-gateway', 'berth-egress']) {
      const env = resolveEnv(podTemplate(one(objs(), 'Deployment', workload)).spec.containers[0]!.env ?? [], standIn);
      const config = loadConfig(env);
      expect(config.tenantsFile).toBe('/etc/berth/tenants/tenants.yaml');
      expect(config.credentialKeys).toBeDefined();
      // Exactly one way to name Redis, and the store is built from it (redis-from-config).
      const redis = redisConnectionFromConfig(config);
      if (name === 'redis-sentinel') {
        expect(redis).toMatchObject({ sentinels: [{ host: 'sentinel-0.redis.svc', port: 26379 }, {}, {}], sentinelName: 'berth', redisOptions: { password: 'stand-in-secret', sentinelPassword: 'stand-in-secret', tls: {} } });
      } else if (name === 'redis-cluster') {
        expect(redis).toMatchObject({ clusterNodes: [{ host: 'redis-cluster-0.redis.svc', port: 6379 }, { host: 'redis-cluster-1.redis.svc', port: 6379 }], redisOptions: { password: 'stand-in-secret' } });
      } else {
        expect(config.redisUrl).toMatch(/^rediss?:\/\//);
      }
      if (workload === 'berth-gateway' && backend === 'modal') {
        expect(config).toMatchObject({ backend: 'modal', host: '0.0.0.0', port: 8080 });
        // The Modal backend's own env reader accepts what the chart rendered, allowlist included.
        const modal = modalOptionsFromEnv(env);
        expect(modal.problems).toEqual([]);
        expect(modal.options.egressCidrs).toEqual(name === 'modal-ingress' ? ['198.51.100.7/32'] : ['203.0.113.10/32']);
      } else if (workload === 'berth-gateway') {
        expect(config).toMatchObject({ backend: 'kubernetes', kubeNamespace: 'berth-sandboxes', host: '0.0.0.0', port: 8080 });
      } else {
        expect(config).toMatchObject({ egressHost: '0.0.0.0', egressPort: 8081, egressMetricsPort: 9091 });
      }
    }
  });
});

describe('the schema and the gateway agree on the tenants file', () => {
  const tenantValues = (tenant: Record<string, unknown>) => ({ tenants: { config: { tenants: { acme: { tokenHashes: [`sha256:${'c'.repeat(64)}`], ...tenant } } } } });
  const accepted = [
    { egress: { allow: ['*.npmjs.org', 'registry.npmjs.org:*', '10.0.0.5:8443', '[fd00::1]:443'] } },
    { agent: { permissionMode: 'dontAsk', maxTurns: 1000 }, limits: { tokenBudget: { tokens: 5, periodS: 60 } } },
  ];
  test.each(accepted)('accepted by both: %j', async (tenant) => {
    const objs = await renderChart({ values: [tenantValues(tenant)] });
    const text = (one(objs, 'Secret', 'berth-tenants').stringData as Record<string, string>)['tenants.yaml']!;
    expect(parseTenants(text).tenants.get('acme')).toBeDefined();
  });

  test('the gateway refuses what the schema lets through only for reasons the schema cannot see', () => {
    // A duplicate token hash across tenants is a cross-object rule: only the gateway checks it.
    const doc = { tenants: { a: { tokenHashes: [`sha256:${'d'.repeat(64)}`] }, b: { tokenHashes: [`sha256:${'d'.repeat(64)}`] } } };
    expect(() => parseTenants(stringify(doc))).toThrow(/also used by tenant a/);
  });
});
