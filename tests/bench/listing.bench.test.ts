// Benchmark of bounded listings (issue 15): GET /sessions?limit=100 for a tenant with 100,000
// sessions vs one with 1,000, same gateway, same run, interleaved, in process and on Redis. A page
// is served from the tenant's own index, so the ratio stays near 1 (goal ≤ 1.5×; asserted < 3×,
// a generous bound for a noisy machine). Two pages per technology: the first (no cursor) and one
// from the middle of the walk (the cursor path: a binary search, not a skip over what came before).
// Sessions are seeded straight through the store port (pipelined on Redis), not through turns.
// Neighbours: measure.ts (rounds, JSON lines), fixtures/stack.ts, fixtures/redis-server.ts.

import { afterAll, beforeAll, expect, test } from 'vitest';
import type { SessionRecord, Store } from '@berth/gateway';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { authHeaders, startTestStack, type TestStack } from '../fixtures/stack.js';
import { encodeTenantCursor } from '@berth/gateway/testing';
import { compare, timed } from './measure.js';

const BIG = 100_000;
const SMALL = 1_000;
const LIMIT = 100;
const T0 = 1_700_000_000_000;
/**
 * Creates in flight while seeding: enough to pipeline, few enough that a busy machine answers
 * each batch well inside the store's 2 s command timeout.
 */
const SEED_BATCH = 500;

let redis: RedisServer;
let inMemory: TestStack;
let viaRedis: TestStack;

function record(id: string, tenant: string, createdAt: number): SessionRecord {
  return { id, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt, lastActivityAt: createdAt, turns: 0 };
}

async function seed(store: Store, tenant: string, prefix: string, count: number): Promise<void> {
  // One create first: ioredis loads the script on its first NOSCRIPT, so a batch then runs EVALSHA.
  await store.sessions.createSession(record(`${prefix}-${String(0).padStart(6, '0')}`, tenant, T0));
  for (let from = 1; from < count; from += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, count - from) }, (_, i) => from + i);
    const results = await Promise.all(batch.map((i) => store.sessions.createSession(record(`${prefix}-${String(i).padStart(6, '0')}`, tenant, T0 + i))));
    if (results.some((r) => r.kind !== 'created')) throw new Error(`seeding ${tenant} did not create every session`);
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
  // Pool size 0: no agent processes; listing never touches a sandbox. Records never bound expire
  // after the default 900 s, far beyond this file.
  inMemory = await startTestStack({ poolSize: 0 });
  viaRedis = await startTestStack({ poolSize: 0, redisUrl: redis.url, model: inMemory.model });
  for (const s of [inMemory, viaRedis]) {
    await s.stack.gateway!.reaper.stop();
    await seed(s.stack.store, 'alice', 'big', BIG);
    await seed(s.stack.store, 'bob', 'small', SMALL);
  }
}, 240_000);

afterAll(async () => {
  await viaRedis?.stop();
  await inMemory?.stop();
  await redis?.stop();
});

interface Page {
  sessions: Array<{ id: string }>;
  nextCursor: string | null;
}

async function page(s: TestStack, token: string, cursor: string | null): Promise<Page> {
  const res = await fetch(`${s.url}/sessions?limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ''}`, { headers: authHeaders(token) });
  if (res.status !== 200) throw new Error(`GET /sessions answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Page;
}

/**
 * The cursor of the page in the middle of a seeded tenant's walk. Callers only ever pass back a
 * cursor a page gave them; the bench knows its seed, so it builds the same cursor with the
 * gateway's own encoder instead of walking there.
 */
function middleCursor(prefix: string, total: number): string {
  const i = total / 2;
  return encodeTenantCursor({ createdAt: T0 + i, id: `${prefix}-${String(i).padStart(6, '0')}` });
}

for (const technology of ['memory', 'redis'] as const) {
  test(`GET /sessions?limit=${LIMIT} with ${BIG} sessions vs ${SMALL}: ${technology} store`, async () => {
    const s = technology === 'memory' ? inMemory : viaRedis;
    expect(s.stack.store.technology).toBe(technology);
    // Correctness first: a full page, newest first, from each tenant.
    expect((await page(s, s.tokens.alice, null)).sessions[0]!.id).toBe(`big-${String(BIG - 1).padStart(6, '0')}`);
    expect((await page(s, s.tokens.bob, null)).sessions).toHaveLength(LIMIT);
    const first = await compare(
      `listing_first_page_${BIG}_vs_${SMALL}_sessions_${technology}`,
      timed(() => page(s, s.tokens.alice, null)),
      timed(() => page(s, s.tokens.bob, null)),
      10,
      { store: technology, limit: LIMIT, candidateSessions: BIG, baselineSessions: SMALL, goalRatioP50: 1.5 },
    );
    const bigMiddle = middleCursor('big', BIG);
    const smallMiddle = middleCursor('small', SMALL);
    expect((await page(s, s.tokens.alice, bigMiddle)).sessions[0]!.id).toBe(`big-${String(BIG / 2 - 1).padStart(6, '0')}`);
    const middle = await compare(
      `listing_middle_page_${BIG}_vs_${SMALL}_sessions_${technology}`,
      timed(() => page(s, s.tokens.alice, bigMiddle)),
      timed(() => page(s, s.tokens.bob, smallMiddle)),
      10,
      { store: technology, limit: LIMIT, candidateSessions: BIG, baselineSessions: SMALL, goalRatioP50: 1.5 },
    );
    expect(first.ratioP50).toBeLessThan(3);
    expect(middle.ratioP50).toBeLessThan(3);
  });
}
