// The chart's security controls, asserted structurally on every scenario's render:
// - RBAC: a Role in the sandbox namespace only (pods), bound to the
//   gateway's ServiceAccount only; no cluster-wide rights; no Secret rights at all.
// - NetworkPolicies: sandboxes accept only the gateway and reach only the egress gateway and DNS;
//   only the gateways reach Redis; the egress gateway's proxy port accepts only sandboxes (on
//   Modal: whoever holds a session credential), its metrics port only metrics scrapes.
// - backend=modal: no sandbox namespace, Role or Kubernetes API token; the Modal token reaches the
//   ingress gateway only; sandboxes may reach the egress gateway's public address only.
// - The model key reaches the egress gateway only; pods meet the restricted Pod Security level;
//   termination grace outlasts preStop + drain.
import { beforeAll, describe, expect, test } from 'vitest';
import { envOf, podTemplate, selects, type LabelSelector, type PodTemplate } from './pod-spec.js';
import { find, one, renderChart, type KubeObject } from './render-chart.js';
import { scenarios } from './scenarios.js';

const RELEASE_NS = 'berth';
const SANDBOX_NS = 'berth-sandboxes';

interface Peer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } }
interface Rule { from?: Peer[]; to?: Peer[]; ports?: Array<{ protocol?: string; port: number }> }
interface PolicySpec { podSelector: LabelSelector; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] }

/** A pod as a NetworkPolicy sees it: its labels and its namespace's name label. */
interface PodView { namespace: string; labels: Record<string, string> }

function peerMatches(peer: Peer, pod: PodView, policyNamespace: string): boolean {
  if (peer.ipBlock) return false; // ipBlock peers are checked separately; they never name pods here
  const nsLabels = { 'kubernetes.io/metadata.name': pod.namespace };
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, nsLabels) : pod.namespace === policyNamespace;
  return nsOk && selects(peer.podSelector, pod.labels);
}

const rendered = new Map<string, KubeObject[]>();
beforeAll(async () => {
  for (const s of scenarios) rendered.set(s.name, await renderChart(s));
});

describe.each(scenarios)('scenario $name', ({ name, backend }) => {
  const onKubernetes = (backend ?? 'kubernetes') === 'kubernetes';
  const objs = () => rendered.get(name)!;
  const pod = (kind: string, workload: string): PodView & { template: PodTemplate } => {
    const template = podTemplate(one(objs(), kind, workload));
    return { namespace: RELEASE_NS, labels: template.metadata.labels, template };
  };
  const gateway = () => pod('Deployment', 'berth-gateway');
  const egress = () => pod('Deployment', 'berth-egress');
  const redis = () => (find(objs(), 'StatefulSet').length ? pod('StatefulSet', 'berth-redis') : undefined);
  // A pod the gateway's KubernetesBackend might create, whatever labels it uses.
  const sandbox: PodView = { namespace: SANDBOX_NS, labels: { 'app.kubernetes.io/name': 'anything' } };
  const policy = (namespace: string, policyName: string) => {
    const np = one(objs(), 'NetworkPolicy', policyName);
    expect(np.metadata.namespace).toBe(namespace);
    return np.spec as PolicySpec;
  };

  test.skipIf(!onKubernetes)('RBAC: no cluster-wide rights; one Role in the sandbox namespace, least privilege', () => {
    expect(find(objs(), 'ClusterRole')).toHaveLength(0);
    expect(find(objs(), 'ClusterRoleBinding')).toHaveLength(0);
    const roles = find(objs(), 'Role');
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual([`${SANDBOX_NS}/berth-gateway`]);
    const rules = roles[0]!.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>;
    const granted = new Map<string, Set<string>>();
    for (const rule of rules) {
      expect(rule.apiGroups).toEqual(['']);
      for (const r of rule.resources) for (const v of rule.verbs) (granted.get(r) ?? granted.set(r, new Set()).get(r)!).add(v);
    }
    // Pods only: agent tokens are derived, so the gateway needs no Secret rights at all.
    expect([...granted.keys()]).toEqual(['pods']);
    expect([...granted.get('pods')!].sort()).toEqual(['create', 'delete', 'get', 'list', 'patch', 'watch']);
    for (const rule of rules) expect(rule.resourceNames).toBeUndefined();
    const binding = one(objs(), 'RoleBinding');
    expect(binding.metadata.namespace).toBe(SANDBOX_NS);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'berth-gateway' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'berth-gateway', namespace: RELEASE_NS }]);
  });

  test('only the ingress gateway carries a Kubernetes API token (and only for Kubernetes sandboxes)', () => {
    expect(gateway().template.spec.serviceAccountName).toBe('berth-gateway');
    // With Modal sandboxes nothing in the release needs a Kubernetes API token at all.
    expect(gateway().template.spec.automountServiceAccountToken).toBe(onKubernetes);
    expect(egress().template.spec.serviceAccountName).toBe('berth-egress');
    expect(egress().template.spec.automountServiceAccountToken).toBe(false);
    if (redis()) expect(redis()!.template.spec.automountServiceAccountToken).toBe(false);
    for (const sa of find(objs(), 'ServiceAccount')) expect(sa.automountServiceAccountToken).toBe(false);
  });

  test.skipIf(!onKubernetes)('nothing of the release lives in the sandbox namespace but its Role, RoleBinding and NetworkPolicy', () => {
    const there = objs().filter((o) => o.metadata.namespace === SANDBOX_NS).map((o) => o.kind).sort();
    expect(there).toEqual(['NetworkPolicy', 'Role', 'RoleBinding']);
  });

  test.skipIf(!onKubernetes)('sandboxes: ingress only from gateway pods on the agent port; egress only to the egress gateway and DNS', () => {
    const spec = policy(SANDBOX_NS, 'berth-sandboxes');
    expect(spec.podSelector).toEqual({}); // every pod in the namespace, whatever its labels
    expect([...spec.policyTypes].sort()).toEqual(['Egress', 'Ingress']);

    expect(spec.ingress).toHaveLength(1);
    const [ingress] = spec.ingress!;
    expect(ingress!.ports).toEqual([{ protocol: 'TCP', port: 8000 }]);
    const admitted = (p: PodView) => ingress!.from!.some((peer) => peerMatches(peer, p, SANDBOX_NS));
    expect(admitted(gateway())).toBe(true);
    expect(admitted(egress())).toBe(false);
    expect(admitted(sandbox)).toBe(false); // agent -> agent
    if (redis()) expect(admitted(redis()!)).toBe(false);

    const egressRules = spec.egress!;
    expect(egressRules.flatMap((r) => r.to ?? []).some((peer) => peer.ipBlock)).toBe(false); // no internet
    expect(egressRules.every((r) => (r.to ?? []).length > 0 && (r.ports ?? []).length > 0)).toBe(true); // no allow-all rule
    const reaches = (p: PodView, port: number) =>
      egressRules.some((r) => r.ports!.some((x) => x.port === port) && r.to!.some((peer) => peerMatches(peer, p, SANDBOX_NS)));
    expect(reaches(egress(), 8081)).toBe(true);
    expect(reaches(gateway(), 8080)).toBe(false);
    expect(reaches(sandbox, 8000)).toBe(false);
    if (redis()) expect(reaches(redis()!, 6379)).toBe(false);
    const dns: PodView = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
    expect(reaches(dns, 53)).toBe(true);
    const dnsRule = egressRules.find((r) => r.to!.some((peer) => peerMatches(peer, dns, SANDBOX_NS)))!;
    expect(dnsRule.ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
    expect(dnsRule.to!.some((peer) => peerMatches(peer, { namespace: 'kube-system', labels: { app: 'other' } }, SANDBOX_NS))).toBe(false);
  });

  test('Redis: only the two gateways reach it, and it opens no connections', () => {
    if (!redis()) {
      expect(find(objs(), 'NetworkPolicy', 'berth-redis')).toHaveLength(0);
      return;
    }
    const spec = policy(RELEASE_NS, 'berth-redis');
    expect(selects(spec.podSelector, redis()!.labels)).toBe(true);
    expect([...spec.policyTypes].sort()).toEqual(['Egress', 'Ingress']);
    expect(spec.egress).toEqual([]);
    const peers = spec.ingress!.flatMap((r) => r.from ?? []);
    expect(spec.ingress!.every((r) => (r.from ?? []).length > 0)).toBe(true);
    const admitted = (p: PodView) => peers.some((peer) => peerMatches(peer, p, RELEASE_NS));
    expect(admitted(gateway())).toBe(true);
    expect(admitted(egress())).toBe(true);
    expect(admitted(sandbox)).toBe(false);
    expect(admitted({ namespace: RELEASE_NS, labels: { app: 'something-else' } })).toBe(false);
  });

  test('egress gateway: its proxy port accepts only sandboxes, its metrics port nothing else; may reach DNS and the internet minus metadata', () => {
    const spec = policy(RELEASE_NS, 'berth-egress');
    expect(selects(spec.podSelector, egress().labels)).toBe(true);
    expect(selects(spec.podSelector, gateway().labels)).toBe(false);
    // Two rules: the proxy port (8081) and the metrics port (9091), never one rule opening both.
    expect(spec.ingress!.map((r) => (r.ports ?? []).map((p) => `${p.protocol}/${p.port}`))).toEqual([['TCP/8081'], ['TCP/9091']]);
    const proxyRule = spec.ingress![0]!;
    if (onKubernetes) {
      const peers = proxyRule.from ?? [];
      expect(peers.some((peer) => peerMatches(peer, sandbox, RELEASE_NS))).toBe(true);
      expect(peers.some((peer) => peerMatches(peer, gateway(), RELEASE_NS))).toBe(false);
    } else {
      // Modal sandboxes come from outside the cluster through the LoadBalancer or Ingress: the
      // network cannot tell them apart, so every request's session credential is the check
      // (gateway-boot.test.ts: an uncredentialed model call and CONNECT are refused).
      expect(proxyRule.from).toBeUndefined();
    }
    const blocks = spec.egress!.flatMap((r) => r.to ?? []).filter((peer) => peer.ipBlock);
    expect(blocks).toEqual([{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }]);
  });

  test('the model API key reaches the egress gateway only', () => {
    for (const workload of objs().filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const containers = podTemplate(workload).spec.containers;
      const hasKey = containers.some((c) => envOf(c).has('ANTHROPIC_API_KEY'));
      // Scenarios with a key configured: model-key and modal-loadbalancer (existingSecret) and
      // manifests (berth-model-api-key).
      const keyConfigured = name === 'model-key' || name === 'manifests' || name === 'modal-loadbalancer';
      expect(hasKey, workload.metadata.name).toBe(keyConfigured && workload.metadata.name === 'berth-egress');
    }
    if (name === 'model-key') {
      expect(envOf(egress().template.spec.containers[0]!).get('ANTHROPIC_API_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'anthropic', key: 'ANTHROPIC_API_KEY' });
    }
  });

  test('every pod meets the restricted Pod Security level', () => {
    for (const workload of objs().filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const spec = podTemplate(workload).spec;
      const where = workload.metadata.name;
      expect(spec.securityContext, where).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.hostNetwork ?? false).toBe(false);
      expect(spec.hostPID ?? false).toBe(false);
      expect((spec.volumes ?? []).filter((v) => v.hostPath)).toEqual([]);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(c.securityContext, `${where}/${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext).not.toHaveProperty('capabilities.add');
      }
    }
  });

  test('graceful drain: terminationGracePeriodSeconds > preStop sleep + BERTH_DRAIN_GRACE_S; readiness and liveness probes', () => {
    for (const view of [gateway(), egress()]) {
      const spec = view.template.spec;
      const c = spec.containers[0]!;
      const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
      expect(preStop[0]).toBe('sleep');
      const sleepS = Number(preStop[1]);
      const drainS = Number(envOf(c).get('BERTH_DRAIN_GRACE_S')?.value);
      expect(sleepS).toBeGreaterThan(0);
      expect(drainS).toBeGreaterThan(0);
      expect(spec.terminationGracePeriodSeconds!).toBeGreaterThan(sleepS + drainS);
      expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    }
    // The ingress gateway's /readyz turns 503 while draining, so it leaves the Service first; the
    // egress gateway serves /healthz only (gateway-boot.test.ts checks every probe path answers).
    expect(gateway().template.spec.containers[0]!.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(egress().template.spec.containers[0]!.readinessProbe?.httpGet?.path).toBe('/healthz');
  });

  test('Secrets are mounted only by the pods that need them', () => {
    const users = new Map<string, string[]>();
    for (const workload of objs().filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const spec = podTemplate(workload).spec;
      const names = new Set<string>();
      for (const v of spec.volumes ?? []) if (v.secret) names.add(v.secret.secretName);
      for (const c of spec.containers) {
        for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
        for (const e of c.envFrom ?? []) if (e.secretRef) names.add(e.secretRef.name);
      }
      for (const n of names) users.set(n, [...(users.get(n) ?? []), workload.metadata.name].sort());
    }
    // Chart-rendered or user-made, these Secrets carry the same names in every scenario.
    expect(users.get('berth-tenants')).toEqual(['berth-egress', 'berth-gateway']);
    expect(users.get('berth-credential-keys')).toEqual(['berth-egress', 'berth-gateway']);
    for (const [secret, pods] of users) {
      if (pods.includes('berth-redis')) expect(secret).toMatch(/redis-auth$/);
    }
    // The Modal token: the ingress gateway creates sandboxes; the egress gateway never needs it.
    expect(users.get('modal-token')).toEqual(backend === 'modal' ? ['berth-gateway'] : undefined);
  });
});
