// The admin API over the Redis store with two gateway replicas sharing one Redis: the all-tenant
// listing on one replica pages through sessions written by the other (the per-shard id index),
// and an admin delete on one replica is gone on both. No turns run (pools of 0): sessions are
// written through each replica's own store, as its session service would.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { startReplicaPair, type ReplicaPair } from '../fixtures/replicas.js';
import { authHeaders, TEST_TOKENS, type TestStack } from '../fixtures/stack.js';

let replicas: ReplicaPair;
let a: TestStack;
let b: TestStack;

beforeAll(async () => {
  replicas = await startReplicaPair({ poolSize: 0 });
  ({ a, b } = replicas);
});

afterAll(async () => replicas?.stop());

interface Page {
  sessions: Array<{ id: string; tenant: string }>;
  nextCursor: string | null;
}

async function admin<T>(s: TestStack, route: string, method = 'GET'): Promise<{ status: number; body: T }> {
  const res = await fetch(s.url + route, { method, headers: authHeaders(TEST_TOKENS.admin) });
  return { status: res.status, body: (await res.json()) as T };
}

test('one replica lists, pages and deletes sessions the other wrote', async () => {
  expect([a.stack.store.technology, b.stack.store.technology]).toEqual(['redis', 'redis']);
  const ids = Array.from({ length: 25 }, (_, i) => `r-${String(i).padStart(2, '0')}`);
  for (const [i, id] of ids.entries()) {
    const store = i % 2 === 0 ? a.stack.store : b.stack.store;
    const now = Date.now();
    await store.sessions.createSession({ id, tenant: i % 3 === 0 ? 'bob' : 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: now, lastActivityAt: now, turns: 0 });
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`;
    const { status, body } = await admin<Page>(a, `/admin/sessions?limit=10${query}`);
    expect(status).toBe(200);
    expect(body.sessions.length).toBeLessThanOrEqual(10);
    seen.push(...body.sessions.map((x) => x.id));
    cursor = body.nextCursor;
    pages++;
  } while (cursor !== null && pages < 10);
  expect(pages).toBe(3);
  expect(seen).toEqual(ids);

  // One tenant's listing pages from its own index, newest first (created in id order here, so
  // newest first is id order reversed, ties included), on the replica that wrote none of them.
  const bobIds = ids.filter((_, i) => i % 3 === 0).reverse();
  const bob = await admin<Page>(b, '/admin/sessions?tenant=bob');
  expect(bob.body).toMatchObject({ nextCursor: null });
  expect(bob.body.sessions.map((x) => x.id)).toEqual(bobIds);
  const bobFirst = await admin<Page>(b, '/admin/sessions?tenant=bob&limit=5');
  const bobRest = await admin<Page>(a, `/admin/sessions?tenant=bob&limit=5&cursor=${bobFirst.body.nextCursor}`);
  expect([...bobFirst.body.sessions, ...bobRest.body.sessions].map((x) => x.id)).toEqual(bobIds);
  expect(bobRest.body.nextCursor).toBeNull();

  expect((await admin(b, '/admin/sessions/r-07', 'DELETE')).status).toBe(200);
  expect((await admin(a, '/admin/sessions/r-07')).status).toBe(404);
  const after = await admin<Page>(a, '/admin/sessions?limit=1000');
  expect(after.body.sessions.map((x) => x.id)).toEqual(ids.filter((id) => id !== 'r-07'));
  expect(after.body.nextCursor).toBeNull();
});

test('bad paging parameters are 400 problems naming the parameter', async () => {
  // A cursor is opaque and checked: junk, an id as it stands, and a tenant listing's cursor on
  // the all-tenant listing (and the reverse) are all refused.
  const tenantCursor = Buffer.from('t.1700000000000.r-01').toString('base64url');
  const idCursor = Buffer.from('i.r-01').toString('base64url');
  expect((await admin<Page>(a, `/admin/sessions?cursor=${idCursor}`)).status).toBe(200);
  expect((await admin<Page>(a, `/admin/sessions?tenant=bob&cursor=${tenantCursor}`)).status).toBe(200);
  for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'limit=', 'limit=1&limit=2', 'cursor=..', 'cursor=r-01', 'cursor=', `cursor=${tenantCursor}`, `tenant=bob&cursor=${idCursor}`, `cursor=${idCursor}=`, `cursor=${'A'.repeat(200)}`, 'tenant=Bad%20Name']) {
    const res = await fetch(`${a.url}/admin/sessions?${query}`, { headers: authHeaders(TEST_TOKENS.admin) });
    expect([query, res.status]).toEqual([query, 400]);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/\?(limit|cursor|tenant)/);
  }
});
