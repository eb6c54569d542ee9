// helm template for every scenario: each rendered object is valid against the Kubernetes schema
// (no unknown fields either), and each scenario renders what its values ask for: Redis bundled
// or external, HPA, ServiceMonitor, two pool profiles, the gateway's agreed environment.
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { kubeSchemaProblems } from './kube-schema.js';
import { envOf, podTemplate, selects, type PodTemplate } from './pod-spec.js';
import { find, one, renderChart, type KubeObject } from './render-chart.js';
import { CUSTOM_KINDS, modalScenarios, scenarios } from './scenarios.js';

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
  'BERTH_DRAIN_GRACE_S', 'REDIS_PASSWORD', 'BERTH_EGRESS_METRICS_PORT',
  'BERTH_REDIS_SENTINELS', 'BERTH_REDIS_SENTINEL_NAME', 'BERTH_REDIS_SENTINEL_PASSWORD', 'BERTH_REDIS_CLUSTER_NODES',
  'BERTH_REDIS_PASSWORD', 'BERTH_REDIS_TLS',
  // backend=modal (orchestrator/src/backends/modal/modal-config.ts; MODAL_* are the modal client's own).
  'BERTH_MODAL_APP', 'BERTH_MODAL_TUNNEL', 'BERTH_MODAL_EGRESS_CIDRS', 'MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET', 'MODAL_ENVIRONMENT',
]);

describe.each(scenarios)('scenario $name', ({ name, backend }) => {
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
    // One BERTH_BACKEND, whatever the backend (extraEnv cannot double it any more).
    expect((gw.env ?? []).filter((e) => e.name === 'BERTH_BACKEND')).toHaveLength(1);
    if (backend === 'modal') {
      expect(env.get('BERTH_BACKEND')?.value).toBe('modal');
      expect(env.has('BERTH_KUBE_NAMESPACE')).toBe(false);
      expect(env.get('BERTH_EGRESS_PUBLIC_URL')?.value).toBe(name === 'modal-ingress' ? 'https://egress.berth.example.com' : 'http://203.0.113.10:8081');
    } else {
      expect(env.get('BERTH_BACKEND')?.value).toBe('kubernetes');
      expect(env.get('BERTH_KUBE_NAMESPACE')?.value).toBe('berth-sandboxes');
      expect(env.get('BERTH_EGRESS_PUBLIC_URL')?.value).toBe('http://berth-egress.berth.svc.cluster.local:8081');
    }
    expect(env.get('BERTH_HOST')?.value).toBe('0.0.0.0');
    expect(envOf(eg).get('BERTH_EGRESS_HOST')?.value).toBe('0.0.0.0');
    // Both must share the signing keys, or every credential the gateway issues is refused.
    expect(env.get('BERTH_CREDENTIAL_KEYS')).toEqual(envOf(eg).get('BERTH_CREDENTIAL_KEYS'));
  });

  test('the egress gateway serves /metrics on a port of its own, and something scrapes it', () => {
    const objs = objects(name);
    const eg = egressContainer(objs);
    const metricsPort = eg.ports!.find((p) => p.name === 'metrics')!;
    expect(metricsPort.containerPort).toBe(Number(envOf(eg).get('BERTH_EGRESS_METRICS_PORT')?.value));
    expect(metricsPort.containerPort).not.toBe(eg.ports!.find((p) => p.name === 'proxy')!.containerPort);
    // Prometheus finds it by pod annotations (plain manifests) or the egress ServiceMonitor.
    const annotations = podTemplate(one(objs, 'Deployment', 'berth-egress')).metadata.annotations ?? {};
    const monitors = find(objs, 'ServiceMonitor', 'berth-egress');
    if (monitors.length === 0) {
      expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort.containerPort), 'prometheus.io/path': '/metrics' });
    }
    // Never on a Service reachable from outside the cluster.
    for (const svc of find(objs, 'Service').filter((s) => (s.spec as { type?: string }).type === 'LoadBalancer')) {
      expect((svc.spec as { ports: Array<{ targetPort: string }> }).ports.map((p) => p.targetPort)).not.toContain('metrics');
    }
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

  test('service-monitor: scrapes the egress gateway\'s /metrics on the egress Service\'s metrics port', () => {
    const objs = objects('service-monitor');
    const sm = one(objs, 'ServiceMonitor', 'berth-egress');
    expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
    const spec = sm.spec as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string; interval: string }> };
    const matching = find(objs, 'Service').filter((s) => selects(spec.selector, s.metadata.labels ?? {}));
    expect(matching.map((s) => s.metadata.name)).toEqual(['berth-egress']);
    expect(spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', interval: '15s' })]);
    const port = (matching[0]!.spec as { ports: Array<{ name: string; targetPort: string }> }).ports.find((p) => p.name === 'metrics')!;
    const container = egressContainer(objs);
    expect(container.ports!.find((p) => p.name === port.targetPort)?.containerPort).toBe(Number(envOf(container).get('BERTH_EGRESS_METRICS_PORT')?.value));
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

describe('Redis Sentinel and Cluster', () => {
  test('redis-sentinel: no bundled Redis; sentinels, master name, passwords from Secrets and TLS reach both gateways', () => {
    const objs = objects('redis-sentinel');
    expect(find(objs, 'StatefulSet')).toHaveLength(0);
    for (const c of [gatewayContainer(objs), egressContainer(objs)]) {
      const env = envOf(c);
      expect(env.get('BERTH_REDIS_SENTINELS')?.value).toBe('sentinel-0.redis.svc:26379,sentinel-1.redis.svc:26379,sentinel-2.redis.svc:26379');
      expect(env.get('BERTH_REDIS_SENTINEL_NAME')?.value).toBe('berth');
      expect(env.get('BERTH_REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'redis-auth', key: 'password' });
      expect(env.get('BERTH_REDIS_SENTINEL_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'redis-sentinel-auth', key: 'password' });
      expect(env.get('BERTH_REDIS_TLS')?.value).toBe('true');
      expect(env.has('BERTH_REDIS_URL')).toBe(false);
    }
  });

  test('redis-cluster: seed nodes and the node password reach both gateways', () => {
    const objs = objects('redis-cluster');
    expect(find(objs, 'StatefulSet')).toHaveLength(0);
    for (const c of [gatewayContainer(objs), egressContainer(objs)]) {
      const env = envOf(c);
      expect(env.get('BERTH_REDIS_CLUSTER_NODES')?.value).toBe('redis-cluster-0.redis.svc:6379,redis-cluster-1.redis.svc:6379');
      expect(env.get('BERTH_REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'redis-auth', key: 'password' });
      expect(env.has('BERTH_REDIS_URL')).toBe(false);
      expect(env.has('BERTH_REDIS_SENTINELS')).toBe(false);
    }
  });
});

describe('backend: modal', () => {
  test.each(modalScenarios)('$name: no sandbox namespace, Role or API token; the Modal token from its Secret to the gateway only', ({ name }) => {
    const objs = objects(name);
    expect(find(objs, 'Namespace')).toHaveLength(0);
    expect(find(objs, 'Role')).toHaveLength(0);
    expect(find(objs, 'RoleBinding')).toHaveLength(0);
    expect(podTemplate(one(objs, 'Deployment', 'berth-gateway')).spec.automountServiceAccountToken).toBe(false);
    const env = envOf(gatewayContainer(objs));
    expect(env.get('MODAL_TOKEN_ID')?.valueFrom?.secretKeyRef).toEqual({ name: 'modal-token', key: 'MODAL_TOKEN_ID' });
    expect(env.get('MODAL_TOKEN_SECRET')?.valueFrom?.secretKeyRef).toEqual({ name: 'modal-token', key: 'MODAL_TOKEN_SECRET' });
    expect(envOf(egressContainer(objs)).has('MODAL_TOKEN_ID')).toBe(false);
    expect(envOf(egressContainer(objs)).has('MODAL_TOKEN_SECRET')).toBe(false);
  });

  test('modal-loadbalancer: the egress proxy port behind a LoadBalancer at the reserved address, which is the sandboxes\' only destination', () => {
    const objs = objects('modal-loadbalancer');
    const svc = one(objs, 'Service', 'berth-egress-public');
    const spec = svc.spec as { type: string; loadBalancerIP: string; ports: Array<{ port: number; targetPort: string }>; selector: Record<string, string> };
    expect(spec.type).toBe('LoadBalancer');
    expect(spec.loadBalancerIP).toBe('203.0.113.10');
    expect(spec.ports).toEqual([expect.objectContaining({ port: 8081, targetPort: 'proxy' })]);
    expect(selects({ matchLabels: spec.selector }, podTemplate(one(objs, 'Deployment', 'berth-egress')).metadata.labels)).toBe(true);
    expect(svc.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' });
    const env = envOf(gatewayContainer(objs));
    expect(env.get('BERTH_MODAL_EGRESS_CIDRS')?.value).toBe('203.0.113.10/32');
    expect(env.get('MODAL_ENVIRONMENT')?.value).toBe('prod');
    // The egress gateway knows its public authority (absolute-form requests to it are model calls).
    expect(envOf(egressContainer(objs)).get('BERTH_EGRESS_PUBLIC_URL')?.value).toBe('http://203.0.113.10:8081');
    expect(find(objs, 'Ingress')).toHaveLength(0);
  });

  test('modal-ingress: an Ingress with TLS to the egress proxy port; the allowlist names only the controller\'s address', () => {
    const objs = objects('modal-ingress');
    expect(find(objs, 'Service', 'berth-egress-public')).toHaveLength(0);
    const ingress = one(objs, 'Ingress', 'berth-egress');
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['egress.berth.example.com'], secretName: 'egress-tls' }],
      rules: [{
        host: 'egress.berth.example.com',
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'berth-egress', port: { name: 'proxy' } } } }] },
      }],
    });
    expect(ingress.metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/proxy-buffering': 'off' });
    const env = envOf(gatewayContainer(objs));
    expect(env.get('BERTH_MODAL_EGRESS_CIDRS')?.value).toBe('198.51.100.7/32');
    expect(env.get('BERTH_MODAL_TUNNEL')?.value).toBe('unencrypted');
  });
});

describe('the callers\' API: Ingress, HTTPRoute, helm test', () => {
  test('default: neither Ingress nor HTTPRoute', () => {
    expect(find(objects('default'), 'Ingress')).toHaveLength(0);
    expect(find(objects('default'), 'HTTPRoute')).toHaveLength(0);
  });

  test('caller-ingress: an Ingress with TLS and SSE annotations to the gateway Service\'s port', () => {
    const ingress = one(objects('caller-ingress'), 'Ingress', 'berth-gateway');
    expect(ingress.metadata.annotations).toEqual({ 'nginx.ingress.kubernetes.io/proxy-buffering': 'off', 'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600' });
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ secretName: 'berth-tls', hosts: ['berth.example.com'] }],
      rules: [{
        host: 'berth.example.com',
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'berth-gateway', port: { name: 'http' } } } }] },
      }],
    });
  });

  test('caller-ingress: an HTTPRoute attached to the named Gateway, to the gateway Service, with the timeouts given', () => {
    const route = one(objects('caller-ingress'), 'HTTPRoute', 'berth-gateway');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ name: 'shared-gateway', namespace: 'infra', sectionName: 'https' }],
      hostnames: ['berth.example.com'],
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ name: 'berth-gateway', port: 8080 }],
        timeouts: { request: '0s' },
      }],
    });
  });

  test('helm test: health, readiness and a refused credential, each a hook Pod against the gateway Service', () => {
    const pods = find(objects('default'), 'Pod');
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['berth-test-health', 'berth-test-readiness', 'berth-test-unauthorized']);
    for (const pod of pods) {
      expect(pod.metadata.annotations?.['helm.sh/hook']).toBe('test');
      const script = (pod.spec as { containers: Array<{ command: string[] }> }).containers[0]!.command.join('\n');
      expect(script).toContain('http://berth-gateway.berth.svc.cluster.local:8080/');
    }
    const script = (name: string) => (one(pods, 'Pod', name).spec as { containers: Array<{ command: string[] }> }).containers[0]!.command[2]!;
    expect(script('berth-test-health')).toMatch(/\/healthz";\n.*const want = 200;/);
    expect(script('berth-test-readiness')).toMatch(/\/readyz";\n.*const want = 200;/);
    expect(script('berth-test-unauthorized')).toMatch(/\/sessions";\n.*const want = 401;/);
    expect(script('berth-test-unauthorized')).toContain('Bearer helm-test-not-a-valid-token');
  });
});

describe('escape hatches (caller-ingress)', () => {
  test('extra volumes and mounts, pod labels and annotations, priority class, own spread rules', () => {
    const objs = objects('caller-ingress');
    const gw = podTemplate(one(objs, 'Deployment', 'berth-gateway'));
    expect(gw.spec.volumes).toContainEqual({ name: 'jwt-key', secret: { secretName: 'jwt-public-key' } });
    expect(gw.spec.containers[0]!.volumeMounts).toContainEqual({ name: 'jwt-key', mountPath: '/etc/berth/jwt', readOnly: true });
    expect(gw.metadata.labels).toMatchObject({ 'example.com/tier': 'api' });
    expect(gw.metadata.annotations).toMatchObject({ 'example.com/owner': 'platform' });
    const gwSpec = gw.spec as unknown as { priorityClassName: string; topologySpreadConstraints: Array<{ topologyKey: string }> };
    expect(gwSpec.priorityClassName).toBe('berth-critical');
    expect(gwSpec.topologySpreadConstraints.map((t) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone']);
    const eg = podTemplate(one(objs, 'Deployment', 'berth-egress'));
    expect(eg.spec.volumes).toContainEqual({ name: 'ca', configMap: { name: 'corp-ca' } });
    expect(eg.spec.containers[0]!.volumeMounts).toContainEqual({ name: 'ca', mountPath: '/etc/ssl/corp', readOnly: true });
    // The egress gateway keeps the default one-per-node spread.
    expect((eg.spec as unknown as { topologySpreadConstraints: Array<{ topologyKey: string }> }).topologySpreadConstraints.map((t) => t.topologyKey)).toEqual(['kubernetes.io/hostname']);
  });

  test('commonLabels on every object; global.imageRegistry on every image, the agent image too; pull secrets on every pod', () => {
    const objs = objects('caller-ingress');
    for (const obj of objs) expect(obj.metadata.labels?.team, `${obj.kind}/${obj.metadata.name}`).toBe('platform');
    const pods = [
      ...objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet').map((w) => podTemplate(w).spec),
      ...find(objs, 'Pod').map((p) => p.spec as PodTemplate['spec']),
    ];
    expect(pods.length).toBeGreaterThanOrEqual(6);
    for (const spec of pods) {
      for (const c of spec.containers) expect(c.image).toMatch(/^registry\.example\.com\/mirror\//);
      expect((spec as unknown as { imagePullSecrets: unknown }).imagePullSecrets).toEqual([{ name: 'mirror-pull' }, { name: 'berth-pull' }]);
    }
    expect(envOf(gatewayContainer(objs)).get('BERTH_AGENT_IMAGE')?.value).toBe('registry.example.com/mirror/berth/agent:0.1.0');
  });
});
