// The gateway boots with the configuration the chart renders and reports ready against the fake
// Kubernetes API server. Each Deployment's container (args, env, mounted Secret and ConfigMap
// files) is turned into a real `node cli/dist/main.js` process; only what a cluster provides and
// a test machine cannot is substituted, each for the reason given in SUBSTITUTIONS. Then every
// probe the chart declares must answer 200, the ingress gateway must fill its pool in the
// sandbox namespace with pods the sandbox NetworkPolicy admits traffic to, the mounted tenants
// file must authenticate its tenant, and SIGTERM must end both processes cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeKube, type FakeKube } from '../fixtures/fake-kube/index.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { podTemplate, resolveEnv, type Container, type PodTemplate } from './pod-spec.js';
import { find, one, renderChart, repoRoot, type KubeObject } from './render-chart.js';

const TOKEN = 'boot-test-token-alice';
const TOKEN_HASH = 'sha256:' + (await import('node:crypto')).createHash('sha256').update(TOKEN).digest('hex');
const VALUES = {
  sandboxes: { profiles: [{ name: 'default', poolSize: 1, egress: 'proxy', resources: { cpu: 0.25, memoryMiB: 512 } }] },
  tenants: { config: { tenants: { alice: { tokenHashes: [TOKEN_HASH], egress: { allow: ['api.github.com'] } } } } },
};

interface Proc { child: ChildProcess; url: Promise<string>; started: Promise<Record<string, unknown>>; exit: Promise<number | null>; output: () => string }

let objects: KubeObject[];
let kube: FakeKube;
let redis: RedisServer;
let root: string;
const procs: Proc[] = [];

/** Secret and ConfigMap contents as the kubelet would project them. */
function secretData(name: string, key: string): string {
  const secret = one(objects, 'Secret', name);
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData?.[key] !== undefined) return stringData[key]!;
  const data = secret.data as Record<string, string> | undefined;
  if (data?.[key] === undefined) throw new Error(`Secret ${name} has no key ${key}`);
  return Buffer.from(data[key]!, 'base64').toString('utf8');
}

/** Writes the pod's volumes under `dir`; returns mountPath → host directory for the container. */
function projectVolumes(template: PodTemplate, container: Container, dir: string): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const mount of container.volumeMounts ?? []) {
    const volume = template.spec.volumes!.find((v) => v.name === mount.name)! as {
      name: string; secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
      configMap?: { name: string }; emptyDir?: unknown;
    };
    const hostDir = path.join(dir, volume.name);
    mkdirSync(hostDir, { recursive: true });
    if (volume.secret) {
      for (const item of volume.secret.items ?? []) writeFileSync(path.join(hostDir, item.path), secretData(volume.secret.secretName, item.key));
    } else if (volume.configMap) {
      const data = one(objects, 'ConfigMap', volume.configMap.name).data as Record<string, string>;
      for (const [key, value] of Object.entries(data)) writeFileSync(path.join(hostDir, key), value);
    }
    mounts.set(mount.mountPath, hostDir);
  }
  return mounts;
}

// What a cluster provides that this machine cannot, and nothing else.
const SUBSTITUTIONS = (egressUrl: string | undefined): Record<string, string> => ({
  // Tests bind loopback only; the pods bind 0.0.0.0.
  BERTH_HOST: '127.0.0.1',
  BERTH_EGRESS_HOST: '127.0.0.1',
  // Port 0: shared machine; the real port is read from the process's start log line.
  BERTH_PORT: '0',
  BERTH_EGRESS_PORT: '0',
  BERTH_EGRESS_METRICS_PORT: '0',
  // Cluster DNS names do not resolve here: the private redis-server and the egress process.
  BERTH_REDIS_URL: redis.url,
  ...(egressUrl ? { BERTH_EGRESS_PUBLIC_URL: egressUrl } : {}),
  // In the pod, the service account token (automounted) reaches the API server.
  BERTH_KUBECONFIG: kube.kubeconfigPath,
});

function startContainer(deployment: string, egressUrl?: string): Proc {
  const template = podTemplate(one(objects, 'Deployment', deployment));
  const container = template.spec.containers[0]!;
  const mounts = projectVolumes(template, container, path.join(root, deployment));
  const env = resolveEnv(container.env ?? [], secretData);
  for (const [name, value] of Object.entries(env)) {
    for (const [mountPath, hostDir] of mounts) if (value.startsWith(`${mountPath}/`)) env[name] = hostDir + value.slice(mountPath.length);
  }
  Object.assign(env, SUBSTITUTIONS(egressUrl));
  // The image's ENTRYPOINT is `node /app/cli/dist/main.js` (gateway/Dockerfile); args come from the chart.
  const child = spawn(process.execPath, [path.join(repoRoot, 'cli', 'dist', 'main.js'), ...(container.args ?? [])], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let onStarted: (line: Record<string, unknown>) => void = () => undefined;
  const started = new Promise<Record<string, unknown>>((resolve) => (onStarted = resolve));
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.includes('berth gateway started')) continue;
        const parsed = JSON.parse(line) as { ingress?: string; egress?: string };
        onStarted(parsed);
        const found = deployment === 'berth-egress' ? parsed.egress : parsed.ingress;
        if (found) resolve(found);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${deployment} exited (${code}) before starting:\n${output}`)));
  });
  url.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc = { child, url, started, exit, output: () => output };
  procs.push(proc);
  return proc;
}

/** Polls until `check` passes or the budget (ms) runs out; the budget comes from the chart's startup probe. */
async function eventually<T>(budgetMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${budgetMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startupBudgetMs(container: Container & { startupProbe?: { periodSeconds?: number; failureThreshold?: number } }): number {
  const probe = container.startupProbe ?? {};
  return (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) * 1000;
}

beforeAll(async () => {
  objects = await renderChart({ values: [VALUES] });
  root = mkdtempSync(path.join(os.tmpdir(), 'berth-boot-'));
  redis = await startRedisServer();
  kube = await startFakeKube({ namespace: 'berth-sandboxes', maxConcurrentStarts: 1 });
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exit));
  await kube?.close();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('the gateway with the chart\'s rendered configuration', () => {
  let egress: Proc;
  let ingress: Proc;
  let egressUrl: string;
  let ingressUrl: string;

  test('the egress gateway starts and answers every probe the chart declares', async () => {
    egress = startContainer('berth-egress');
    const container = podTemplate(one(objects, 'Deployment', 'berth-egress')).spec.containers[0]! as Container & Record<string, { httpGet?: { path: string } }>;
    egressUrl = await eventually(startupBudgetMs(container), () => egress.url);
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const res = await fetch(`${egressUrl}${container[probe]!.httpGet!.path}`);
      expect(res.status, `${probe} ${container[probe]!.httpGet!.path}`).toBe(200);
    }
  });

  test('the egress gateway serves /metrics on its own port: egress counters and standard process metrics; logs name their level', async () => {
    const line = await egress.started;
    expect(line.level).toBe('info');
    const container = podTemplate(one(objects, 'Deployment', 'berth-egress')).spec.containers[0]!;
    expect(container.ports!.find((p) => p.name === 'metrics')).toBeDefined();
    const metricsUrl = line.egressMetrics as string;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(metricsUrl).port).not.toBe(new URL(egressUrl).port);
    // An uncredentialed model call through the proxy port: refused, and counted.
    const refused = await fetch(`${egressUrl}/v1/messages`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(401);
    await refused.text();
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toMatch(/^berth_egress_decisions_total\{kind="model",outcome="deny",reason="credential_missing"\} 1$/m);
    expect(text).toMatch(/^# TYPE berth_egress_metered_tokens_total counter$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).not.toMatch(/process_process_/);
    // The proxy port does not serve metrics (sandboxes reach it).
    const onProxy = await fetch(`${egressUrl}/metrics`);
    expect(onProxy.status).toBe(404);
    await onProxy.text();
  });

  test('the ingress gateway starts, reports ready, and answers every probe the chart declares', async () => {
    ingress = startContainer('berth-gateway', egressUrl);
    const container = podTemplate(one(objects, 'Deployment', 'berth-gateway')).spec.containers[0]! as Container & Record<string, { httpGet?: { path: string } }>;
    const budget = startupBudgetMs(container);
    ingressUrl = await eventually(budget, () => ingress.url);
    await eventually(budget, async () => ((await fetch(`${ingressUrl}/readyz`)).status === 200 ? true : undefined));
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const res = await fetch(`${ingressUrl}${container[probe]!.httpGet!.path}`);
      expect(res.status, `${probe} ${container[probe]!.httpGet!.path}`).toBe(200);
    }
  });

  test('it fills the pool in the sandbox namespace with pods the sandbox NetworkPolicy admits the gateway to', async () => {
    const pods = await eventually(40_000, async () => (kube.pods().length > 0 ? kube.pods() : undefined)).catch((error: Error) => {
      throw new Error(`${error.message}; no sandbox pod was created. Ingress output:\n${ingress.output()}`);
    });
    const pod = pods[0]! as unknown as { metadata: { namespace: string }; spec: { containers: Array<{ image: string; ports?: Array<{ containerPort: number }> }> } };
    expect(pod.metadata.namespace).toBe('berth-sandboxes');
    expect(pod.spec.containers[0]!.image).toBe('berth/agent:0.1.0');
    const policy = one(objects, 'NetworkPolicy', 'berth-sandboxes').spec as { ingress: Array<{ ports: Array<{ port: number }> }> };
    expect(policy.ingress[0]!.ports.map((p) => p.port)).toContain(pod.spec.containers[0]!.ports![0]!.containerPort);
  });

  test('the tenants file mounted from the Secret authenticates its tenant; others get 401', async () => {
    const ok = await fetch(`${ingressUrl}/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${ingressUrl}/sessions`, { headers: { authorization: 'Bearer not-a-tenant' } });
    expect(bad.status).toBe(401);
  });

  test('SIGTERM drains and both processes exit 0', async () => {
    for (const p of [ingress, egress]) p.child.kill('SIGTERM');
    expect(await ingress.exit, ingress.output()).toBe(0);
    expect(await egress.exit, egress.output()).toBe(0);
    expect(find(objects, 'Deployment')).toHaveLength(2);
  });
});
