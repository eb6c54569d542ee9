// GET /api/usage: the caller's lifetime totals, one page of its sessions' counters (session-id
// order; ?limit default 100, at most 1000; the opaque ?cursor of the previous page's nextCursor)
// and its token budget's current window on the gateway's clock, or null without a budget. Bad
// ?limit/?cursor are 400 problems. The operator's side of the same ledger: GET /admin/usage
// (each tenant's totals and session count; with ?tenant= one page of its sessions, paged the same
// way) and GET /admin/sessions/{id}'s usage. A gateway over the in-process store with an injected
// clock and a backend nothing reaches: usage is recorded through the budget policy, as the egress
// gateway records it. The gateway's ledger refuses getUsage (every session of a tenant at once),
// so no route here may read more than it answers. Store-level paging guarantees: the UsageLedger
// contract (tests/contracts/store/usage-ledger-contract.ts); metering by real turns: quotas.test.ts.

import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type RunningGateway, type UsageReportBody } from '@berth/gateway/testing';
import { directModelAccess } from '@berth/gateway/sessions';
import { recordUsage } from '@berth/gateway/policy';
import { createMemoryStore, type Store, type TokenUsage } from '@berth/gateway';
import { hashToken, parseTenants } from '@berth/gateway/tenants';
import { unusedBackend } from '../fixtures/unused-backend.js';

const ALICE = 'berth_usage_alice';
const BOB = 'berth_usage_bob';
const ADMIN = 'berth_usage_admin';
const HOUR_MS = 3_600_000;
/** The start of an hour window (budget windows are aligned to the epoch). */
const WINDOW = 472_223 * HOUR_MS;
const budget = { tokens: 1000, periodS: 3600 };
let clock = WINDOW + 60_000;
let gateway: RunningGateway;
let store: Store;

const usage = (input: number, output: number): TokenUsage => ({ inputTokens: input, outputTokens: output, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
const aliceIds = Array.from({ length: 25 }, (_, i) => `a-${String((i * 7) % 25).padStart(2, '0')}`);

beforeAll(async () => {
  store = createMemoryStore();
  // What the gateway gets: the same store, its ledger without the whole-tenant read.
  const usageLedger = store.usage;
  const guarded: Store = {
    ...store,
    usage: {
      addUsage: (...args) => usageLedger.addUsage(...args),
      usagePage: (...args) => usageLedger.usagePage(...args),
      usageSummary: (...args) => usageLedger.usageSummary(...args),
      sessionUsage: (...args) => usageLedger.sessionUsage(...args),
      getUsage: async (tenant) => {
        throw new Error(`a route read every session of ${tenant} (getUsage)`);
      },
    },
  };
  const directory = parseTenants(`tenants:
  alice:
    tokenHashes: ["${hashToken(ALICE)}"]
    limits: { tokenBudget: { tokens: ${budget.tokens}, periodS: ${budget.periodS} } }
  bob:
    tokenHashes: ["${hashToken(BOB)}"]
admins:
  tokenHashes: ["${hashToken(ADMIN)}"]
`);
  gateway = await startGateway({ store: guarded, backend: unusedBackend, tenants: () => directory, access: directModelAccess('http://127.0.0.1:9'), log: pino({ level: 'silent' }), drainGraceS: 0, now: () => clock });
  // The window before this one: lifetime counters only. This window: 25 sessions, 375 tokens.
  await recordUsage(store.usage, 'alice', 'x-old', usage(100, 0), budget, WINDOW - 1);
  for (const [i, id] of aliceIds.entries()) await recordUsage(store.usage, 'alice', id, usage(i + 1, 2), budget, WINDOW + i);
  await recordUsage(store.usage, 'bob', 'b-1', usage(5, 6), undefined, WINDOW);
});

afterAll(async () => {
  await gateway?.close();
  await store?.close();
});

async function get(token: string, query = ''): Promise<{ status: number; type: string | null; body: UsageReportBody & { detail?: string; code?: string } }> {
  const res = await fetch(`${gateway.url}/api/usage${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as UsageReportBody & { detail?: string; code?: string } };
}

test('a tenant with a budget sees the current window: used and remaining are the tokens metered in it', async () => {
  const { status, body } = await get(ALICE);
  expect(status).toBe(200);
  expect(body.total).toEqual(usage(100 + 325, 50));
  expect(body.budget).toEqual({
    tokens: 1000,
    periodS: 3600,
    usedTokens: 375,
    remainingTokens: 625,
    windowStartsAt: new Date(WINDOW).toISOString(),
    windowEndsAt: new Date(WINDOW + HOUR_MS).toISOString(),
  });
  expect(body.budget!.windowStartsAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
});

test('a tenant without a budget sees budget null; each tenant sees only its own sessions', async () => {
  expect((await get(BOB)).body).toEqual({ tenant: 'bob', total: usage(5, 6), sessions: { 'b-1': usage(5, 6) }, nextCursor: null, budget: null });
  expect((await get(ADMIN)).status).toBe(403);
});

test('spent: remaining 0 and the quotas refuse a turn; the next window on the gateway clock starts afresh', async () => {
  clock = WINDOW + 120_000;
  await recordUsage(store.usage, 'alice', 'a-00', usage(700, 0), budget, clock);
  expect((await get(ALICE)).body.budget).toMatchObject({ usedTokens: 1075, remainingTokens: 0 });
  const refused = await fetch(`${gateway.url}/sessions/spent-1/messages`, { method: 'POST', headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' }, body: '{"prompt":"hi"}' });
  expect(refused.status).toBe(429);
  expect(((await refused.json()) as { code: string }).code).toBe('budget_exhausted');
  clock = WINDOW + HOUR_MS;
  expect((await get(ALICE)).body.budget).toEqual({
    tokens: 1000,
    periodS: 3600,
    usedTokens: 0,
    remainingTokens: 1000,
    windowStartsAt: new Date(WINDOW + HOUR_MS).toISOString(),
    windowEndsAt: new Date(WINDOW + 2 * HOUR_MS).toISOString(),
  });
});

test('pages walk every session exactly once in id order, with the totals and budget on each, and end with a null nextCursor', async () => {
  const expected = [...aliceIds, 'x-old'].sort();
  const seen: string[] = [];
  const first = (await get(ALICE)).body;
  let cursor: string | null = null;
  let pages = 0;
  do {
    const { status, body } = await get(ALICE, `?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(status).toBe(200);
    expect(Object.keys(body.sessions).length).toBeLessThanOrEqual(4);
    expect(body.total).toEqual(first.total);
    expect(body.budget).toEqual(first.budget);
    seen.push(...Object.keys(body.sessions));
    cursor = body.nextCursor;
    if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    pages++;
  } while (cursor !== null && pages < 20);
  expect(pages).toBe(7);
  expect(seen).toEqual(expected);
  // Without ?limit (100) and at the most (1000): one page, no cursor.
  expect(Object.keys(first.sessions).sort()).toEqual(expected);
  expect(first.nextCursor).toBeNull();
  expect((await get(ALICE, '?limit=1000')).body.nextCursor).toBeNull();
  expect((await get(ALICE, '?limit=1')).body.sessions).toEqual({ 'a-00': first.sessions['a-00'] });
});

test('a bad ?limit or ?cursor is a 400 problem naming the parameter', async () => {
  const listingCursor = Buffer.from('t.1700000000000.a-01').toString('base64url');
  const adminCursor = Buffer.from('i.a-01').toString('base64url');
  const badId = Buffer.from('u.a/01').toString('base64url');
  for (const query of ['limit=0', 'limit=1001', 'limit=-1', 'limit=1.5', 'limit=ten', 'limit=', 'limit=1&limit=2', 'cursor=', 'cursor=..', 'cursor=a-01', `cursor=${listingCursor}`, `cursor=${adminCursor}`, `cursor=${badId}`, `cursor=${'QQ'.repeat(100)}`, 'cursor=a&cursor=b']) {
    const { status, type, body } = await get(ALICE, `?${query}`);
    expect([query, status]).toEqual([query, 400]);
    expect(type).toMatch(/^application\/problem\+json/);
    expect(body.code).toBe('invalid_body');
    expect(body.detail).toMatch(/\?(limit|cursor)/);
  }
});

async function admin<T>(route: string): Promise<{ status: number; type: string | null; body: T & { detail?: string; code?: string } }> {
  const res = await fetch(`${gateway.url}${route}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as T & { detail?: string; code?: string } };
}

interface AdminUsage {
  usage: Array<{ tenant: string; total: TokenUsage; sessions?: Record<string, TokenUsage>; nextCursor?: string | null; sessionCount?: number }>;
}

test('GET /admin/usage: every tenant of the file with its totals and session count (budget windows are no tenants)', async () => {
  const { status, body } = await admin<AdminUsage>('/admin/usage');
  expect(status).toBe(200);
  expect(body).toEqual({
    usage: [
      { tenant: 'alice', total: (await get(ALICE)).body.total, sessionCount: aliceIds.length + 1 },
      { tenant: 'bob', total: usage(5, 6), sessionCount: 1 },
    ],
  });
});

test('GET /admin/usage?tenant= pages the tenant\'s sessions as GET /api/usage does, with the totals on every page', async () => {
  const mine = (await get(ALICE, '?limit=1000')).body;
  const seen: Record<string, TokenUsage> = {};
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor === null ? '' : `&cursor=${cursor}`;
    const { status, body } = await admin<AdminUsage>(`/admin/usage?tenant=alice&limit=4${query}`);
    expect(status).toBe(200);
    expect(body.usage).toHaveLength(1);
    const [entry] = body.usage;
    expect(Object.keys(entry!).sort()).toEqual(['nextCursor', 'sessions', 'tenant', 'total']);
    expect(entry).toMatchObject({ tenant: 'alice', total: mine.total });
    expect(Object.keys(entry!.sessions!).length).toBeLessThanOrEqual(4);
    Object.assign(seen, entry!.sessions);
    cursor = entry!.nextCursor!;
    pages++;
  } while (cursor !== null && pages < 20);
  expect(pages).toBe(7);
  expect(seen).toEqual(mine.sessions);
  expect(Object.keys(seen)).toEqual(Object.keys(mine.sessions).sort());
  // Default page (100): all 26 on one; a tenant with no usage: zero totals, no sessions.
  expect((await admin<AdminUsage>('/admin/usage?tenant=alice')).body.usage[0]).toEqual({ tenant: 'alice', total: mine.total, sessions: mine.sessions, nextCursor: null });
  expect((await admin<AdminUsage>('/admin/usage?tenant=nobody')).body).toEqual({ usage: [{ tenant: 'nobody', total: usage(0, 0), sessions: {}, nextCursor: null }] });
  // The cursor of one page is the caller's too: both walk the same ledger in the same order.
  const first = (await admin<AdminUsage>('/admin/usage?tenant=alice&limit=3')).body.usage[0]!;
  expect(Object.keys((await get(ALICE, `?limit=3&cursor=${first.nextCursor}`)).body.sessions)).toEqual(Object.keys(mine.sessions).sort().slice(3, 6));
});

test('GET /admin/usage: a bad ?limit or ?cursor, or either without ?tenant, is a 400 problem naming the parameter', async () => {
  const listingCursor = Buffer.from('i.a-01').toString('base64url');
  const usageCursor = Buffer.from('u.a-01').toString('base64url');
  expect((await admin<AdminUsage>(`/admin/usage?tenant=alice&cursor=${usageCursor}`)).status).toBe(200);
  for (const query of ['tenant=alice&limit=0', 'tenant=alice&limit=1001', 'tenant=alice&limit=ten', 'tenant=alice&cursor=a-01', `tenant=alice&cursor=${listingCursor}`, 'tenant=alice&cursor=', 'limit=5', `cursor=${usageCursor}`, 'tenant=Not%20A%20Name']) {
    const { status, type, body } = await admin<AdminUsage>(`/admin/usage?${query}`);
    expect([query, status]).toEqual([query, 400]);
    expect(type).toMatch(/^application\/problem\+json/);
    expect(body.code).toBe('invalid_body');
    expect(body.detail).toMatch(/\?(limit|cursor|tenant)/);
  }
});

test('GET /admin/sessions/{id}: the session\'s own counters, null when it has none', async () => {
  const now = clock;
  const record = (id: string, tenant: string) => ({ id, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt: now, lastActivityAt: now, turns: 0 });
  await store.sessions.createSession(record('a-07', 'alice'));
  await store.sessions.createSession(record('fresh-1', 'bob'));
  const metered = await admin<{ id: string; usage: TokenUsage | null }>('/admin/sessions/a-07');
  expect(metered.status).toBe(200);
  expect(metered.body).toMatchObject({ id: 'a-07', tenant: 'alice', usage: (await get(ALICE, '?limit=1000')).body.sessions['a-07'] });
  expect((await admin<{ usage: TokenUsage | null }>('/admin/sessions/fresh-1')).body).toMatchObject({ id: 'fresh-1', tenant: 'bob', usage: null });
});
