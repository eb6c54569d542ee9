// helm template for every scenario: each rendered object is valid against the Kubernetes schema
// (no unknown fields either), and each scenario renders what its values ask for: Redis bundled
// or external, HPA, ServiceMonitor, two pool profiles, the gateway's agreed environment.
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { kubeSchemaProblems } from './kube-schema.js';
import { envOf, podTemplate, selects } from './pod-spec.js';
import { find, one, renderChart, type KubeObject } from './render-chart.js';
import { CUSTOM_KINDS, scenarios } from './scenarios.js';

const rendered = new Map<string, KubeObject[]>();
beforeAll(async () => {
  for (const s of scenarios) rendered.set(s.name, await renderChart(s));
});
const objects = (name: string) => rendered.get(name)!;
const gatewayContainer = (objs: KubeObject[]) => podTemplate(one(objs, 'Deployment', 'berth-gateway')).spec.containers[0]!;
const egressContainer = (objs: KubeObject[]) => podTemplate(one(objs, 'Deployment', 'berth-egress')).spec.containers[0]!;

// The gateway's configuration contract (team rules), plus REDIS_PASSWORD, which only feeds the
// kubelet's $(REDIS_PASSWORD) expansion inside BERTH_REDIS_URL.
const AGREED_ENV = new Set([
  'BERTH_HOST', 'BERTH_PORT', 'BERTH_EGRESS_HOST', 'BERTH_EGRESS_PORT', 'BERTH_EGRESS_PUBLIC_URL',
  'BERTH_TENANTS_FILE', 'BERTH_PROFILES_FILE', 'BERTH_POOL_SIZE', 'BERTH_REDIS_URL', 'BERTH_REDIS_PREFIX',
  'BERTH_BACKEND', 'BERTH_KUBE_NAMESPACE', 'BERTH_KUBECONFIG', 'BERTH_AGENT_IMAGE', 'ANTHROPIC_API_KEY',
  'BERTH_MODEL_UPSTREAM_URL', 'BERTH_CREDENTIAL_KEYS', 'BERTH_IDLE_TIMEOUT_S', 'BERTH_LOG_LEVEL',
  'BERTH_DRAIN_GRACE_S', 'REDIS_PASSWORD',
]);

describe.each(scenarios)('scenario $name', ({ name }) => {
  test('every object validates against the Kubernetes schema, with no unknown fields', async () => {
    const problems: string[] = [];
    for (const obj of objects(name)) {
      if (CUSTOM_KINDS.has(obj.kind)) continue;
      problems.push(...(await kubeSchemaProblems(obj)));
    }
    expect(problems).toEqual([]);
  });

  test('object names are unique per kind and namespace', () => {
    const keys = objects(name).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('the gateways run the agreed command and environment', () => {
    const gw = gatewayContainer(objects(name));
    const eg = egressContainer(objects(name));
    expect(gw.args).toEqual(['gateway', '--ingress-only']);
    expect(eg.args).toEqual(['gateway', '--egress-only']);
    for (const c of [gw, eg]) for (const e of c.env ?? []) expect(AGREED_ENV, `${c.name}: ${e.name}`).toContain(e.name);
    const env = envOf(gw);
    expect(env.get('BERTH_BACKEND')?.value).toBe('kubernetes');
    expect(env.get('BERTH_KUBE_NAMESPACE')?.value).toBe('berth-sandboxes');
    expect(env.get('BERTH_HOST')?.value).toBe('0.0.0.0');
    expect(env.get('BERTH_EGRESS_PUBLIC_URL')?.value).toBe('http://berth-egress.berth.svc.cluster.local:8081');
    expect(envOf(eg).get('BERTH_EGRESS_HOST')?.value).toBe('0.0.0.0');
    // Both must share the signing keys, or every credential the gateway issues is refused.
    expect(env.get('BERTH_CREDENTIAL_KEYS')).toEqual(envOf(eg).get('BERTH_CREDENTIAL_KEYS'));
  });

  test('every Service selects the pods of one workload, on a port that workload names', () => {
    const workloads = objects(name).filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
    for (const svc of find(objects(name), 'Service')) {
      const spec = svc.spec as { selector: Record<string, string>; ports: Array<{ targetPort: string }> };
      const matched = workloads.filter((w) => selects({ matchLabels: spec.selector }, podTemplate(w).metadata.labels));
      expect(matched, svc.metadata.name).toHaveLength(1);
      const portNames = podTemplate(matched[0]!).spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const port of spec.ports) expect(portNames).toContain(port.targetPort);
    }
  });
});

describe('Redis', () => {
  test('default: one bundled Redis with AOF on a PVC, reached through its Service with a password', () => {
    const objs = objects('default');
    const sts = one(objs, 'StatefulSet', 'berth-redis');
    expect((sts.spec as { replicas: number }).replicas).toBe(1);
    const claims = (sts.spec as { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> }).volumeClaimTemplates;
    expect(claims[0]!.spec.resources.requests.storage).toBe('2Gi');
    const conf = (one(objs, 'ConfigMap', 'berth-redis').data as Record<string, string>)['redis.conf']!;
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(conf).toMatch(/^include \/tmp\/redis-auth.conf$/m);
    const env = envOf(gatewayContainer(objs));
    expect(env.get('BERTH_REDIS_URL')?.value).toBe('redis://:$(REDIS_PASSWORD)@berth-redis.berth.svc.cluster.local:6379');
    expect(env.get('REDIS_PASSWORD')?.valueFrom?.secretKeyRef?.name).toBe('berth-redis-auth');
    // $(VAR) expansion only sees variables defined earlier in the list.
    const names = (gatewayContainer(objs).env ?? []).map((e) => e.name);
    expect(names.indexOf('REDIS_PASSWORD')).toBeLessThan(names.indexOf('BERTH_REDIS_URL'));
  });

  test('bundled-redis: storage class, size, fsync and no password as configured', () => {
    const objs = objects('bundled-redis');
    const claim = (one(objs, 'StatefulSet').spec as { volumeClaimTemplates: Array<{ spec: Record<string, unknown> }> }).volumeClaimTemplates[0]!;
    expect(claim.spec.storageClassName).toBe('fast-ssd');
    expect(claim.spec.resources).toEqual({ requests: { storage: '20Gi' } });
    const conf = (one(objs, 'ConfigMap', 'berth-redis').data as Record<string, string>)['redis.conf']!;
    expect(conf).toMatch(/^appendfsync always$/m);
    expect(conf).not.toMatch(/include/);
    expect(envOf(gatewayContainer(objs)).get('BERTH_REDIS_URL')?.value).toBe('redis://berth-redis.berth.svc.cluster.local:6379');
    expect(find(objs, 'Secret', 'berth-redis-auth')).toHaveLength(0);
  });

  test('external-redis: no Redis workload; the URL comes from a Secret both gateways read', () => {
    const objs = objects('external-redis');
    expect(find(objs, 'StatefulSet')).toHaveLength(0);
    expect(find(objs, 'NetworkPolicy', 'berth-redis')).toHaveLength(0);
    const secret = one(objs, 'Secret', 'berth-redis-url');
    expect((secret.stringData as Record<string, string>).url).toBe('rediss://default:s3cret@redis.example.internal:6380/0');
    for (const c of [gatewayContainer(objs), egressContainer(objs)]) {
      expect(envOf(c).get('BERTH_REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'berth-redis-url', key: 'url' });
      expect(envOf(c).has('REDIS_PASSWORD')).toBe(false);
    }
  });
});

describe('scaling and monitoring', () => {
  test('default: 2 gateway replicas, PodDisruptionBudgets, no HPA, no ServiceMonitor', () => {
    const objs = objects('default');
    expect((one(objs, 'Deployment', 'berth-gateway').spec as { replicas: number }).replicas).toBe(2);
    expect(find(objs, 'PodDisruptionBudget').map((p) => p.metadata.name).sort()).toEqual(['berth-egress', 'berth-gateway']);
    expect(find(objs, 'HorizontalPodAutoscaler')).toHaveLength(0);
    expect(find(objs, 'ServiceMonitor')).toHaveLength(0);
  });

  test('hpa: the HPA owns the replica count of the gateway Deployment', () => {
    const objs = objects('hpa');
    const hpa = one(objs, 'HorizontalPodAutoscaler', 'berth-gateway');
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'berth-gateway' },
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
    });
    // A fixed replicas field would fight the HPA on every helm upgrade.
    expect(one(objs, 'Deployment', 'berth-gateway').spec).not.toHaveProperty('replicas');
  });

  test('service-monitor: scrapes /metrics on the gateway Service port', () => {
    const objs = objects('service-monitor');
    const sm = one(objs, 'ServiceMonitor', 'berth-gateway');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
    const spec = sm.spec as { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: Array<{ port: string; path: string; interval: string }> };
    const matching = find(objs, 'Service').filter((s) => selects(spec.selector, s.metadata.labels ?? {}));
    expect(matching.map((s) => s.metadata.name)).toEqual(['berth-gateway']);
    const ports = (matching[0]!.spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name);
    expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics', interval: '15s' })]);
    expect(ports).toContain(spec.endpoints[0]!.port);
    expect(spec.namespaceSelector.matchNames).toEqual(['berth']);
  });
});

describe('profiles and tenants', () => {
  const profilesOf = (objs: KubeObject[]) =>
    parse((one(objs, 'ConfigMap', 'berth-profiles').data as Record<string, string>)['profiles.yaml']!) as Array<Record<string, unknown>>;

  test('default: one profile, the agent image filled in, mounted as BERTH_PROFILES_FILE', () => {
    const objs = objects('default');
    expect(profilesOf(objs)).toEqual([
      { name: 'default', poolSize: 2, egress: 'proxy', image: 'berth/agent:0.1.0', resources: { cpu: 0.5, memoryMiB: 1024 } },
    ]);
    const gw = gatewayContainer(objs);
    expect(envOf(gw).get('BERTH_PROFILES_FILE')?.value).toBe('/etc/berth/profiles/profiles.yaml');
    expect(gw.volumeMounts).toContainEqual(expect.objectContaining({ name: 'profiles', mountPath: '/etc/berth/profiles' }));
    expect(envOf(gw).get('BERTH_AGENT_IMAGE')?.value).toBe('berth/agent:0.1.0');
  });

  test('two-profiles: both profiles, own image and runtimeClass kept; tenants rendered to the Secret', () => {
    const objs = objects('two-profiles');
    const profiles = profilesOf(objs);
    expect(profiles.map((p) => p.name)).toEqual(['default', 'isolated']);
    expect(profiles[0]).toMatchObject({ poolSize: 3, image: 'berth/agent:0.1.0' });
    expect(profiles[1]).toEqual({
      name: 'isolated', poolSize: 1, image: 'registry.example.com/berth/agent-tools:1.2.3', runtimeClassName: 'gvisor',
      egress: 'none', resources: { cpu: 2, memoryMiB: 4096, cpuLimit: 4, memoryLimitMiB: 8192 },
    });
    const tenantsYaml = (one(objs, 'Secret', 'berth-tenants').stringData as Record<string, string>)['tenants.yaml']!;
    const tenants = parse(tenantsYaml) as { tenants: Record<string, { sandboxProfile: string; egress?: { allow: string[] } }> };
    expect(tenants.tenants.bob!.sandboxProfile).toBe('isolated');
    expect(tenants.tenants.alice!.egress!.allow).toEqual(['api.github.com', '*.npmjs.org:443']);
    // The tenant-key Secret goes to the egress gateway only.
    expect(egressContainer(objs).envFrom).toEqual([{ secretRef: { name: 'tenant-model-keys' } }]);
    expect(gatewayContainer(objs).envFrom).toBeUndefined();
  });

  test('a changed profile or tenant rolls the gateway pods (config checksum annotation)', async () => {
    const base = podTemplate(one(objects('default'), 'Deployment', 'berth-gateway')).metadata.annotations!['checksum/config'];
    const changed = await renderChart({ values: [{ sandboxes: { profiles: [{ name: 'default', poolSize: 5 }] } }] });
    const after = podTemplate(one(changed, 'Deployment', 'berth-gateway')).metadata.annotations!['checksum/config'];
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(base);
  });
});
