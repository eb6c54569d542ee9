// Stock kubectl against the fake API server: the discovery it reads, get (with kubectl's own
// limit=500 paging and a field selector), watch, and patch (merge and JSON), so the fake speaks
// the real REST API closely enough for a client that is not ours. And the fake refuses what it
// does not implement instead of answering as if the parameter were absent.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeKube, type FakeKube } from '../fixtures/fake-kube/index.js';
import { waitFor } from '../fixtures/wait-for.js';

const run = promisify(execFile);
// scripts/test.sh installs it (need_apt kubectl kubectl); without it this file says why it skips.
const KUBECTL = '/usr/bin/kubectl';
const haveKubectl = existsSync(KUBECTL);
if (!haveKubectl) console.warn(`kubectl-fake-api.test.ts skipped: ${KUBECTL} is missing (npm test installs it with apt-get install kubectl)`);

let kube: FakeKube;

async function kubectl(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(KUBECTL, ['--kubeconfig', kube.kubeconfigPath, '--request-timeout=10s', ...args], { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' } });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`kubectl ${args.join(' ')} failed: ${stderr ?? (error as Error).message}`);
  }
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = /token: (\S+)/.exec((await import('node:fs')).readFileSync(kube.kubeconfigPath, 'utf8'))![1]!;
  const res = await fetch(`${kube.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const pod = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'agent', image: 'berth/agent:test' }] },
});

beforeAll(async () => {
  // client-go sends no bearer token over plain http (all the fake speaks), so the token check is off here.
  kube = await startFakeKube({ namespace: 'kubectl-test', maxConcurrentStarts: 1, acceptUnauthenticated: true });
  for (const name of ['alpha', 'beta', 'gamma']) {
    expect((await api('POST', '/api/v1/namespaces/kubectl-test/pods', pod(name, { app: 'demo', name }))).status).toBe(201);
  }
});

afterAll(async () => {
  await kube?.close();
});

describe.skipIf(!haveKubectl)('real kubectl against the fake API server', () => {
  test('version: the server answers /version', async () => {
    const version = JSON.parse(await kubectl('version', '-o', 'json')) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe('v1.32.0-berth-fake');
  });

  test('get: list (paged by kubectl), by name, by label and by field selector', async () => {
    expect((await kubectl('get', 'pods', '-o', 'name')).trim().split('\n')).toEqual(['pod/alpha', 'pod/beta', 'pod/gamma']);
    expect((await kubectl('get', 'pods', '--chunk-size=1', '-o', 'name')).trim().split('\n')).toEqual(['pod/alpha', 'pod/beta', 'pod/gamma']);
    const one = JSON.parse(await kubectl('get', 'pod', 'beta', '-o', 'json')) as { metadata: { name: string; labels: Record<string, string> } };
    expect(one.metadata).toMatchObject({ name: 'beta', labels: { app: 'demo', name: 'beta' } });
    expect((await kubectl('get', 'pods', '-l', 'name in (alpha,gamma)', '-o', 'name')).trim().split('\n')).toEqual(['pod/alpha', 'pod/gamma']);
    expect((await kubectl('get', 'pods', '--field-selector', 'metadata.name!=beta', '-o', 'name')).trim().split('\n')).toEqual(['pod/alpha', 'pod/gamma']);
    // The default (table) output too: kubectl prints the plain objects the fake returns.
    expect(await kubectl('get', 'pods')).toMatch(/^NAME\s.*\nalpha\s/);
  });

  test('watch: kubectl sees a change made while it watches', async () => {
    const child = spawn(KUBECTL, ['--kubeconfig', kube.kubeconfigPath, 'get', 'pod', 'gamma', '--watch', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.labels.tier}{"\\n"}'], { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    try {
      await waitFor(`kubectl's first watch event (stderr: ${err})`, () => /^ADDED/m.test(out), { timeoutMs: 15_000 });
      const token = /token: (\S+)/.exec((await import('node:fs')).readFileSync(kube.kubeconfigPath, 'utf8'))![1]!;
      const res = await fetch(`${kube.url}/api/v1/namespaces/kubectl-test/pods/gamma`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ metadata: { labels: { tier: 'watched' } } }),
      });
      expect(res.status).toBe(200);
      await res.text();
      await waitFor(`kubectl printing the MODIFIED event (stdout: ${out}, stderr: ${err})`, () => /^MODIFIED watched$/m.test(out), { timeoutMs: 15_000 });
      // Only gamma: the watch carried kubectl's field selector on metadata.name.
      expect(out).not.toMatch(/alpha|beta/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('patch: merge and JSON patches land, and a failed JSON Patch test is refused', async () => {
    await kubectl('patch', 'pod', 'alpha', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"gold"}}}');
    expect(kube.store.get('kubectl-test', 'alpha')!.metadata.labels).toMatchObject({ tier: 'gold' });
    await kubectl('patch', 'pod', 'alpha', '--type=json', '-p', '[{"op":"test","path":"/metadata/labels/tier","value":"gold"},{"op":"replace","path":"/metadata/labels/tier","value":"platinum"}]');
    expect(kube.store.get('kubectl-test', 'alpha')!.metadata.labels).toMatchObject({ tier: 'platinum' });
    await expect(kubectl('patch', 'pod', 'alpha', '--type=json', '-p', '[{"op":"test","path":"/metadata/labels/tier","value":"gold"}]')).rejects.toThrow(/failed/);
    expect(kube.store.get('kubectl-test', 'alpha')!.metadata.labels).toMatchObject({ tier: 'platinum' });
  });
});

describe('parameters the fake does not implement are refused, not ignored', () => {
  test.each([
    ['/api/v1/namespaces/kubectl-test/pods?fieldSelector=spec.nodeName%3Dn1', /field label not supported: spec.nodeName/],
    ['/api/v1/namespaces/kubectl-test/pods?resourceVersionMatch=Exact&resourceVersion=1', /resourceVersionMatch=Exact is not implemented/],
    ['/api/v1/namespaces/kubectl-test/pods?sendInitialEvents=true&watch=1', /does not implement the query parameter "sendInitialEvents"/],
    ['/api/v1/namespaces/kubectl-test/pods?limit=-1', /limit must be a non-negative integer/],
    ['/api/v1/namespaces/kubectl-test/pods/alpha?labelSelector=a%3Db', /does not implement the query parameter "labelSelector"/],
  ])('%s', async (path, message) => {
    const res = await api('GET', path);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect(String(res.body.message)).toMatch(message);
  });

  test('limit and continue page through the list in name order, and field selectors filter', async () => {
    const first = await api('GET', '/api/v1/namespaces/kubectl-test/pods?limit=2');
    const names = (body: Record<string, unknown>) => (body.items as Array<{ metadata: { name: string } }>).map((p) => p.metadata.name);
    expect(names(first.body)).toEqual(['alpha', 'beta']);
    const token = (first.body.metadata as { continue?: string }).continue!;
    expect(token).toBeTruthy();
    const second = await api('GET', `/api/v1/namespaces/kubectl-test/pods?limit=2&continue=${token}`);
    expect(names(second.body)).toEqual(['gamma']);
    expect((second.body.metadata as { continue?: string }).continue).toBeUndefined();
    expect(names((await api('GET', '/api/v1/namespaces/kubectl-test/pods?fieldSelector=metadata.name%3Dbeta')).body)).toEqual(['beta']);
  });
});
