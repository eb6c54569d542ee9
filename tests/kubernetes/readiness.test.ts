// /readyz follows the Kubernetes API: while the API server errors on the pod list/watch the
// gateway cannot claim pods, so it leaves its Service (503 backend_unavailable) and comes back
// once the API answers again. Liveness (/healthz) is unaffected throughout.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { startFakeKube, type FakeKube } from '../fixtures/fake-kube/index.js';
import { startTestStack, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let kube: FakeKube;
let s: TestStack;

beforeAll(async () => {
  kube = await startFakeKube({ namespace: 'ready-sandboxes' });
  s = await startTestStack({
    poolSize: 0,
    env: {
      BERTH_BACKEND: 'kubernetes',
      BERTH_KUBECONFIG: kube.kubeconfigPath,
      BERTH_KUBE_NAMESPACE: kube.namespace,
      BERTH_CREDENTIAL_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    },
  });
});
afterAll(async () => {
  await s?.stop();
  await kube?.close();
});

/** Polls `route` until it answers `status`; returns that answer's body. */
async function until(route: string, status: number): Promise<{ code?: string }> {
  return waitFor(`${route} to answer ${status}`, async () => {
    const res = await fetch(s.url + route);
    const body = (await res.json()) as { code?: string };
    return res.status === status ? body : null;
  });
}

test('readyz is 503 while the API server fails the pod list, and 200 again once it answers', async () => {
  await until('/readyz', 200);
  // The next lists fail; a 410 on the open watch forces the cache to list again.
  kube.faults.failNext(4, 500, { methods: ['GET'], pathSuffix: '/pods' });
  kube.faults.goneWatches();
  const down = await until('/readyz', 503);
  expect(down.code).toBe('backend_unavailable');
  expect((await fetch(s.url + '/healthz')).status).toBe(200);
  await until('/readyz', 200);
});
