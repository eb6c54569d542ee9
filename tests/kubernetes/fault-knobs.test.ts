// Each fault knob of the fake API server, then convergence: the pool is back at its target
// (exactly that many live standbys, all ready) and claims still work. One world for the file,
// a pool of 2, so the process count stays small; each test leaves the pool converged.

import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KubernetesBackend } from '@berth/orchestrator/kubernetes';
import { waitFor } from '../fixtures/wait-for.js';
import { openKubeWorld, type KubeWorld } from './kube-test-world.js';

const TARGET = 2;
let world: KubeWorld;
let backend: KubernetesBackend;
const registry = new Registry();
let sessionN = 0;

beforeAll(async () => {
  // Bookmarks every 200 ms and a 1.5 s silence bound: a stalled watch is noticed quickly.
  world = await openKubeWorld({ bookmarkIntervalMs: 200 });
  backend = world.newReplica([{ name: 'faults', poolSize: TARGET }], { watchSilenceTimeoutMs: 1500, registry });
  await backend.start();
  await converged();
}, 60_000);

afterAll(async () => {
  await world?.close();
});

const liveStandbys = () => world.kube.pods().filter((p) => !p.metadata.deletionTimestamp && p.metadata.labels?.['berth.dev/state'] === 'standby' && p.status?.phase !== 'Failed');

async function converged(): Promise<void> {
  await waitFor('the pool back at its target', async () => liveStandbys().length === TARGET && (await backend.pool())[0]!.ready === TARGET, { timeoutMs: 30_000 });
}

/** A watch of the test's own on the fake API server, counting the BOOKMARK events it receives. */
async function openBookmarkWatch(): Promise<{ bookmarks: () => number; close: () => void }> {
  const abort = new AbortController();
  // The fake's bearer token, read where every client reads it: the kubeconfig.
  const token = /^\s*token: (\S+)$/m.exec(readFileSync(world.kube.kubeconfigPath, 'utf8'))![1]!;
  const res = await fetch(`${world.kube.url}/api/v1/pods?watch=true&allowWatchBookmarks=true`, { signal: abort.signal, headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`the fake API server refused our watch: ${res.status}`);
  let count = 0;
  let buffered = '';
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      count += lines.filter((line) => line.includes('"type":"BOOKMARK"')).length;
    }
  })().catch(() => undefined);
  return { bookmarks: () => count, close: () => abort.abort() };
}

/** Claim and release one session; the claim triggers a refill that must get through. */
async function claimOnce(): Promise<string> {
  const session = `fault-${sessionN++}`;
  const sandbox = await backend.claim(session, 'faults');
  await backend.release(session);
  return sandbox.sandboxId;
}

async function apiErrors(code: string): Promise<number> {
  const metric = (await registry.getSingleMetric('berth_orchestrator_kube_api_errors_total')?.get())?.values ?? [];
  return metric.filter((v) => v.labels.code === code).reduce((sum, v) => sum + v.value, 0);
}

describe('KubernetesBackend under API faults', () => {
  test('500 on the next creates: the refill backs off and retries', async () => {
    const before = await apiErrors('500');
    world.kube.faults.failNext(3, 500, { methods: ['POST'] });
    await claimOnce();
    await converged();
    expect(world.kube.faults.pendingRequestFaults).toBe(0);
    expect((await apiErrors('500')) - before).toBe(3);
  });

  test('429 with Retry-After: waited out and retried, counted by code', async () => {
    const before = await apiErrors('429');
    world.kube.faults.failNext(2, 429, { retryAfterS: 1, methods: ['POST'] });
    await claimOnce();
    await converged();
    expect(world.kube.faults.served.get(429)).toBeGreaterThanOrEqual(2);
    expect((await apiErrors('429')) - before).toBe(2);
  });

  test('409 on the claim patches: the claim moves on and still succeeds', async () => {
    world.kube.faults.failNext(2, 409, { methods: ['PATCH'] });
    const sandboxId = await claimOnce();
    expect(sandboxId).not.toBe('');
    expect(world.kube.faults.pendingRequestFaults).toBe(0);
    await converged();
  });

  test('dropped watch: resumed from the last version, without a relist', async () => {
    const { watchStarts, lists } = backend.watchStats()!;
    expect(world.kube.faults.dropWatches()).toBeGreaterThanOrEqual(1);
    await waitFor('a new watch', () => backend.watchStats()!.watchStarts > watchStarts);
    await claimOnce();
    await converged();
    expect(backend.watchStats()!.lists).toBe(lists);
  });

  test('410 Gone on the watch: relists, then watches again', async () => {
    const { gones, lists } = backend.watchStats()!;
    world.kube.faults.goneWatches();
    await waitFor('a relist after 410', () => backend.watchStats()!.lists > lists);
    expect(backend.watchStats()!.gones).toBeGreaterThan(gones);
    await claimOnce();
    await converged();
  });

  test('a watch that stalls silently is restarted after the silence bound', async () => {
    const { stalls } = backend.watchStats()!;
    expect(world.kube.faults.stallWatches()).toBeGreaterThanOrEqual(1);
    // Changes made while the watch is stalled reach the mirror only through the restarted watch.
    await claimOnce();
    await waitFor('the stalled watch restarted', () => backend.watchStats()!.stalls > stalls);
    await converged();
  });

  test('a standby whose process dies fails, is deleted and replaced', async () => {
    const victim = liveStandbys()[0]!.metadata.name;
    expect(await world.kube.killPod(victim)).toBe(true);
    await waitFor('the failed standby deleted', () => !world.kube.pods().some((p) => p.metadata.name === victim && !p.metadata.deletionTimestamp));
    await converged();
    expect(liveStandbys().map((p) => p.metadata.name)).not.toContain(victim);
  });

  test('the pool loop does not poll: an idle pool makes no API requests', async () => {
    await converged();
    // The idle span is measured in the server's own bookmarks (every 200 ms on every watch,
    // the backend's included), not in the test's clock: five of them, however slow the machine.
    const span = await openBookmarkWatch();
    try {
      const snapshot = new Map(world.kube.requestCounts);
      await waitFor('five bookmarks on a watch of our own', () => span.bookmarks() >= 5);
      expect(world.kube.requestCounts).toEqual(snapshot);
    } finally {
      span.close();
    }
  });
});
