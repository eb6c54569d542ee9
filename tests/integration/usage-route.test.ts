// GET /api/usage: the caller's lifetime totals, one page of its sessions' counters (session-id
// order; ?limit default 100, at most 1000; the opaque ?cursor of the previous page's nextCursor)
// and its token budget's current window on the gateway's clock, or null without a budget. Bad
// ?limit/?cursor are 400 problems. A gateway over the in-process store with an injected clock and
// a backend nothing reaches: usage is recorded through the budget policy, as the egress gateway
// records it. Store-level paging guarantees: the UsageLedger contract
// (tests/contracts/store/usage-ledger-contract.ts); metering by real turns: quotas.test.ts.

import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { SandboxBackend } from '@berth/orchestrator';
import { startGateway, type RunningGateway, type UsageReportBody } from '@berth/gateway/testing';
import { directModelAccess } from '@berth/gateway/sessions';
import { recordUsage } from '@berth/gateway/policy';
import { createMemoryStore, type Store, type TokenUsage } from '@berth/gateway';
import { hashToken, parseTenants } from '@berth/gateway/tenants';

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

/** A backend nothing here reaches: no request of this file may need a sandbox. */
const unusedBackend = {
  kind: 'local',
  profiles: () => [{ name: 'default', poolSize: 0 }],
  start: async () => {},
  stop: async () => {},
  claim: async () => {
    throw new Error('no sandbox in this test');
  },
  release: async () => {},
  pool: async () => [],
  sweep: async () => ({ removed: [] }),
} as unknown as SandboxBackend;

const usage = (input: number, output: number): TokenUsage => ({ inputTokens: input, outputTokens: output, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
const aliceIds = Array.from({ length: 25 }, (_, i) => `a-${String((i * 7) % 25).padStart(2, '0')}`);

beforeAll(async () => {
  store = createMemoryStore();
  const directory = parseTenants(`tenants:
  alice:
    tokenHashes: ["${hashToken(ALICE)}"]
    limits: { tokenBudget: { tokens: ${budget.tokens}, periodS: ${budget.periodS} } }
  bob:
    tokenHashes: ["${hashToken(BOB)}"]
admins:
  tokenHashes: ["${hashToken(ADMIN)}"]
`);
  gateway = await startGateway({ store, backend: unusedBackend, tenants: () => directory, access: directModelAccess('http://127.0.0.1:9'), log: pino({ level: 'silent' }), drainGraceS: 0, now: () => clock });
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
  expect((await get(ALICE, '?limit=1')).body.sessions).toEqual({ 'a-00': usage(701, 2) });
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
