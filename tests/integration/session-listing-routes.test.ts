// GET /sessions pages (issue 15): one bounded page from the tenant's own index, newest first,
// ?limit (default 100, at most 1000) and the opaque ?cursor of the previous page's nextCursor;
// bad values are 400 problems that never reach the store. A gateway over the in-process store
// with a backend nothing reaches: sessions are written through the store port, as the session
// service would. Store-level paging guarantees (concurrent creates and deletes) are the
// SessionListing contract's (tests/contracts/store/session-listing-contract.ts).

import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type RunningGateway } from '@berth/gateway/testing';
import { directModelAccess } from '@berth/gateway/sessions';
import { createMemoryStore, type Store } from '@berth/gateway';
import { hashToken, parseTenants } from '@berth/gateway/tenants';
import { unusedBackend } from '../fixtures/unused-backend.js';

const ALICE = 'berth_listing_alice';
const BOB = 'berth_listing_bob';
const T0 = 1_700_000_000_000;
let gateway: RunningGateway;
let store: Store;

interface Page {
  sessions: Array<{ id: string; status: string }>;
  nextCursor: string | null;
}

beforeAll(async () => {
  store = createMemoryStore();
  const directory = parseTenants(`tenants:\n  alice:\n    tokenHashes: ["${hashToken(ALICE)}"]\n  bob:\n    tokenHashes: ["${hashToken(BOB)}"]\n`);
  gateway = await startGateway({ store, backend: unusedBackend, tenants: () => directory, access: directModelAccess('http://127.0.0.1:9'), log: pino({ level: 'silent' }), drainGraceS: 0 });
  // 105 of alice's (ties of three per creation time) and 2 of bob's, interleaved.
  for (let i = 0; i < 105; i++) await store.sessions.createSession(session(`a-${String(i).padStart(3, '0')}`, 'alice', T0 + Math.floor(i / 3)));
  for (let i = 0; i < 2; i++) await store.sessions.createSession(session(`b-${i}`, 'bob', T0 + i));
});

afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

function session(id: string, tenant: string, createdAt: number) {
  return { id, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt, lastActivityAt: createdAt, turns: 0 };
}

async function list(token: string, query = ''): Promise<{ status: number; type: string | null; body: Page & { detail?: string } }> {
  const res = await fetch(`${gateway.url}/sessions${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Page & { detail?: string } };
}

test('pages walk the tenant’s sessions newest first, each exactly once, and end with a null nextCursor', async () => {
  const expected = Array.from({ length: 105 }, (_, i) => `a-${String(i).padStart(3, '0')}`).reverse();
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const { status, body } = await list(ALICE, `?limit=10${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(status).toBe(200);
    expect(body.sessions.length).toBeLessThanOrEqual(10);
    seen.push(...body.sessions.map((s) => s.id));
    cursor = body.nextCursor;
    if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    pages++;
  } while (cursor !== null && pages < 20);
  expect(pages).toBe(11);
  expect(seen).toEqual(expected);
  // The views carry the session's turn state, as GET /sessions/{id} does.
  expect((await list(ALICE, '?limit=1')).body.sessions[0]).toMatchObject({ id: 'a-104', status: 'idle' });
  // Another tenant sees only its own.
  expect((await list(BOB)).body).toMatchObject({ sessions: [{ id: 'b-1' }, { id: 'b-0' }], nextCursor: null });
});

test('without ?limit a page holds 100; ?limit=1000 is the most', async () => {
  const first = await list(ALICE);
  expect(first.body.sessions).toHaveLength(100);
  expect(first.body.nextCursor).not.toBeNull();
  expect((await list(ALICE, `?cursor=${first.body.nextCursor}`)).body).toMatchObject({ sessions: { length: 5 }, nextCursor: null });
  expect((await list(ALICE, '?limit=1000')).body).toMatchObject({ sessions: { length: 105 }, nextCursor: null });
});

test('a bad ?limit or ?cursor is a 400 problem naming the parameter', async () => {
  const adminCursor = Buffer.from('i.a-001').toString('base64url');
  const unsafeTime = Buffer.from('t.99999999999999999.a-001').toString('base64url');
  const badId = Buffer.from('t.1700000000000.a/001').toString('base64url');
  for (const query of ['limit=0', 'limit=1001', 'limit=-1', 'limit=1.5', 'limit=ten', 'limit=', 'limit=1&limit=2', 'cursor=', 'cursor=..', 'cursor=a-001', `cursor=${adminCursor}`, `cursor=${unsafeTime}`, `cursor=${badId}`, `cursor=${'QQ'.repeat(100)}`, 'cursor=a&cursor=b']) {
    const { status, type, body } = await list(ALICE, `?${query}`);
    expect([query, status]).toEqual([query, 400]);
    expect(type).toMatch(/^application\/problem\+json/);
    expect(body.detail).toMatch(/\?(limit|cursor)/);
  }
});
