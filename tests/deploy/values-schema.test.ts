// Bad values fail at install (helm template runs the same schema and checks as helm install),
// with an error that names the offending value: values.schema.json for shapes and ranges,
// templates/_validate.tpl for rules across fields.
import { describe, expect, test } from 'vitest';
import { renderChart, renderError, type Values } from './render-chart.js';

const HASH = `sha256:${'a'.repeat(64)}`;

const rejected: Array<[string, Values, RegExp]> = [
  ['an unknown top-level key (typo)', { gatway: { replicas: 3 } }, /additional properties 'gatway' not allowed/],
  ['an unknown nested key', { gateway: { replica: 3 } }, /at '\/gateway': additional properties 'replica'/],
  ['zero gateway replicas', { gateway: { replicas: 0 } }, /at '\/gateway\/replicas'/],
  ['replicas as a string', { gateway: { replicas: 'two' } }, /at '\/gateway\/replicas'/],
  ['an unknown Redis mode', { redis: { mode: 'replicated' } }, /at '\/redis\/mode'/],
  ['a backend berth does not have', { backend: 'docker' }, /at '\/backend'/],
  ['a sentinel address without a port', { redis: { mode: 'sentinel', sentinel: { addresses: ['sentinel-0'] } } }, /at '\/redis\/sentinel\/addresses\/0'/],
  ['an extra volume mount without a path', { gateway: { extraVolumeMounts: [{ name: 'x' }] } }, /at '\/gateway\/extraVolumeMounts\/0'.*mountPath/],
  ['a topology spread rule without its required fields', { egress: { topologySpreadConstraints: [{ maxSkew: 1 }] } }, /at '\/egress\/topologySpreadConstraints\/0'/],
  ['a Modal tunnel mode that does not exist', { modal: { tunnel: 'tls' } }, /at '\/modal\/tunnel'/],
  ['a Modal allowlist entry that is not a CIDR', { modal: { egress: { cidrs: ['egress.example.com'] } } }, /at '\/modal\/egress\/cidrs\/0'/],
  ['a Redis URL that is not redis:// or rediss://', { redis: { mode: 'external', external: { url: 'http://redis:6379' } } }, /at '\/redis\/external\/url'/],
  ['an image digest that is not sha256', { image: { digest: 'md5:abc' } }, /at '\/image\/digest'/],
  ['a log level pino does not know', { config: { logLevel: 'verbose' } }, /at '\/config\/logLevel'/],
  ['a Pod Security level that does not exist', { sandboxes: { namespace: { podSecurity: 'strict' } } }, /at '\/sandboxes\/namespace\/podSecurity'/],
  ['no profiles', { sandboxes: { profiles: [] } }, /at '\/sandboxes\/profiles'/],
  ['a profile name that is not a DNS label', { sandboxes: { profiles: [{ name: 'Big_Pool', poolSize: 1 }] } }, /at '\/sandboxes\/profiles\/0\/name'/],
  ['a negative pool size', { sandboxes: { profiles: [{ name: 'default', poolSize: -1 }] } }, /at '\/sandboxes\/profiles\/0\/poolSize'/],
  ['a profile without poolSize', { sandboxes: { profiles: [{ name: 'default' }] } }, /at '\/sandboxes\/profiles\/0'.*poolSize/],
  ['too little sandbox memory', { sandboxes: { profiles: [{ name: 'default', poolSize: 1, resources: { memoryMiB: 64 } }] } }, /memoryMiB/],
  ['a token stored in clear instead of its hash', { tenants: { config: { tenants: { alice: { tokenHashes: ['my-secret-token'] } } } } }, /at '\/tenants\/config\/tenants\/alice\/tokenHashes\/0'/],
  ['an unknown tenant field', { tenants: { config: { tenants: { alice: { tokenHashes: [HASH], egres: {} } } } } }, /additional properties 'egres'/],
  ['an allowlist entry with a scheme', { tenants: { config: { tenants: { alice: { tokenHashes: [HASH], egress: { allow: ['https://api.github.com'] } } } } } }, /egress\/allow\/0/],
  ['a token budget without a period', { tenants: { config: { tenants: { alice: { tokenHashes: [HASH], limits: { tokenBudget: { tokens: 10 } } } } } } }, /periodS/],
  ['a tenant name with capitals', { tenants: { config: { tenants: { Alice: { tokenHashes: [HASH] } } } } }, /Alice/],
  ['a profile name longer than the gateway allows', { sandboxes: { profiles: [{ name: 'p'.repeat(32), poolSize: 1 }] } }, /at '\/sandboxes\/profiles\/0\/name'/],
  ['an egress CIDR that is not one', { egress: { internet: { cidr: 'internet' } } }, /at '\/egress\/internet\/cidr'/],
  ['a NodePort outside the NodePort range', { gateway: { service: { type: 'NodePort', nodePort: 8080 } } }, /at '\/gateway\/service\/nodePort'/],
  // Cross-field rules (_validate.tpl).
  ['a grace period the drain does not fit in', { gateway: { drainGraceS: 30, preStopSleepS: 5, terminationGracePeriodSeconds: 30 } }, /gateway.terminationGracePeriodSeconds \(30\) must exceed gateway.preStopSleepS \+ gateway.drainGraceS \(35\)/],
  ['the same for the egress gateway', { egress: { drainGraceS: 60, terminationGracePeriodSeconds: 40 } }, /egress.terminationGracePeriodSeconds \(40\) must exceed/],
  ['external Redis without a URL', { redis: { mode: 'external' } }, /redis.mode=external needs redis.external.url or redis.external.existingSecret/],
  ['both a Redis URL and a Secret', { redis: { mode: 'external', external: { url: 'redis://r:6379', existingSecret: 'r' } } }, /only one of redis.external.url and redis.external.existingSecret/],
  ['both a model key value and a Secret', { modelApiKey: { value: 'k', existingSecret: 's' } }, /only one of modelApiKey.value and modelApiKey.existingSecret/],
  ['a nodePort on a ClusterIP Service', { gateway: { service: { nodePort: 30080 } } }, /gateway.service.nodePort needs gateway.service.type=NodePort/],
  ['HPA min above max', { gateway: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } } }, /minReplicas must not exceed maxReplicas/],
  ['sentinel mode without sentinels', { redis: { mode: 'sentinel' } }, /redis.mode=sentinel needs redis.sentinel.addresses/],
  ['cluster mode without nodes', { redis: { mode: 'cluster' } }, /redis.mode=cluster needs redis.cluster.nodes/],
  ['Modal without a token Secret', { backend: 'modal', modal: { egress: { loadBalancer: { loadBalancerIP: '203.0.113.1' } } } }, /backend=modal needs modal.token.existingSecret/],
  ['Modal without a public egress address', { backend: 'modal', modal: { token: { existingSecret: 't' } } }, /backend=modal needs the egress gateway's public address/],
  ['Modal behind a named address without CIDRs', { backend: 'modal', modal: { token: { existingSecret: 't' }, egress: { publicUrl: 'http://egress.example.com:8081' } } }, /backend=modal needs modal.egress.cidrs/],
  ['a Modal egress Ingress without TLS', { backend: 'modal', modal: { token: { existingSecret: 't' }, egress: { expose: 'ingress', cidrs: ['198.51.100.7/32'], ingress: { host: 'egress.example.com' } } } }, /needs modal.egress.ingress.tlsSecretName/],
  ['a caller Ingress without hosts', { gateway: { ingress: { enabled: true } } }, /gateway.ingress.enabled needs gateway.ingress.hosts/],
  ['an HTTPRoute without a Gateway to attach to', { gateway: { httpRoute: { enabled: true } } }, /gateway.httpRoute.enabled needs gateway.httpRoute.parentRefs/],
  ['a profile defined twice', { sandboxes: { profiles: [{ name: 'a', poolSize: 1 }, { name: 'a', poolSize: 2 }] } }, /profile "a" is defined twice/],
  ['a tenant on a profile that does not exist', { tenants: { config: { tenants: { alice: { tokenHashes: [HASH], sandboxProfile: 'gpu' } } } } }, /tenant "alice" uses sandboxProfile "gpu", which sandboxes.profiles does not define/],
];

describe('values the chart refuses', () => {
  test.each(rejected)('%s', async (_what, values, message) => {
    expect(await renderError({ values: [values] })).toMatch(message);
  });

  test('all cross-field errors are reported at once', async () => {
    const error = await renderError({ values: [{ redis: { mode: 'external' }, gateway: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } }] });
    expect(error).toMatch(/redis.mode=external needs/);
    expect(error).toMatch(/minReplicas must not exceed maxReplicas/);
  });
});

describe('values the chart accepts', () => {
  test('--set backend=modal with a token Secret and a LoadBalancer address: one BERTH_BACKEND, the Modal one', async () => {
    const objs = await renderChart({
      values: [{ backend: 'modal', modal: { token: { existingSecret: 'modal-token' }, egress: { loadBalancer: { loadBalancerIP: '203.0.113.9' } } } }],
    });
    const gw = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'berth-gateway')!;
    const env = (gw.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } }).template.spec.containers[0]!.env;
    expect(env.filter((e) => e.name === 'BERTH_BACKEND').map((e) => e.value)).toEqual(['modal']);
    expect(env.find((e) => e.name === 'BERTH_MODAL_EGRESS_CIDRS')?.value).toBe('203.0.113.9/32');
  });

  test('an explicit grace period above preStop + drain, and a digest-pinned image', async () => {
    const objs = await renderChart({
      values: [{ gateway: { drainGraceS: 120, terminationGracePeriodSeconds: 180 }, image: { digest: `sha256:${'b'.repeat(64)}` } }],
    });
    const gw = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'berth-gateway')!;
    const pod = (gw.spec as { template: { spec: { terminationGracePeriodSeconds: number; containers: Array<{ image: string }> } } }).template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(180);
    expect(pod.containers[0]!.image).toBe(`berth/gateway@sha256:${'b'.repeat(64)}`);
  });
});
