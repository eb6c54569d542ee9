// Runs every store port contract (tests/contracts/store/) against the memory store and the Redis
// store (one private redis-server for this file), then pins what only the Redis store promises:
// checkAndTouch is one EVALSHA, idleSessions never scans, keys carry the prefix, and records
// survive a second store.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryStore, createRedisStore } from '@berth/gateway';
import { RedisKeys } from '@berth/gateway/store';
import { STORE_SCRIPTS } from '@berth/gateway/store';
import { BUDGET_WINDOW_GRACE_MS, budgetKey, budgetWindow, checkBudget, recordUsage } from '@berth/gateway/policy';
import { runStoreContracts } from '../contracts/store/index.js';
import { countCommands, luaCommandNames } from '../fixtures/redis-commandstats.js';
import { redisTest as test, startRedisServer, type RedisServer } from '../fixtures/redis-server.js';

runStoreContracts({
  name: 'memory store',
  newStore: async ({ now, limits }) => createMemoryStore({ now, limits }),
});

let server: RedisServer;
let prefixes = 0;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

runStoreContracts({
  name: 'Redis store',
  serverClock: true,
  // A fresh prefix per test is a fresh, empty store without flushing what other tests hold.
  newStore: async ({ limits }) => createRedisStore({ url: server.url, keyPrefix: `contract${++prefixes}:`, limits }),
});

describe('Redis store specifics', () => {
  const record = (id: string, lastActivityAt = 1000) => ({
    id, tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 1000, lastActivityAt, turns: 0,
  });

  test('checkAndTouch is exactly one command (EVALSHA) per call', async ({ redis }) => {
    const store = createRedisStore({ url: redis.url, keyPrefix: 'cost:' });
    const admin = new Redis(redis.url);
    try {
      await store.sessions.createSession(record('s1'));
      await store.sessions.createSession(record('s2'));
      // ioredis sends EVAL the first time a script runs on a connection, EVALSHA afterwards.
      await store.sessions.checkAndTouch('s1', 'alice', 1001);
      const calls = 20;
      const cost = await countCommands(admin, async () => {
        for (let i = 0; i < calls; i++) await store.sessions.checkAndTouch('s1', 'alice', 2000 + i);
      });
      expect(cost.commands.evalsha).toBe(calls);
      expect(cost.commands.eval).toBeUndefined();
      // Redis also counts what the script runs inside, by name. Baseline: the same script sent
      // by hand as one EVALSHA on the same kind of session; the store's call must cost no more.
      const { lua, numberOfKeys } = STORE_SCRIPTS.berthCheckAndTouch;
      const sha = createHash('sha1').update(lua).digest('hex');
      const k = new RedisKeys('cost:').session('s2');
      const baseline = await countCommands(admin, async () => {
        for (let i = 0; i < calls; i++) await admin.evalsha(sha, numberOfKeys, k.record, k.activity, 'alice', 2000 + i, 's2');
      });
      expect(cost.commands).toEqual(baseline.commands);
      const inner = luaCommandNames(lua);
      expect(Object.keys(cost.commands).filter((name) => name !== 'evalsha' && !inner.has(name))).toEqual([]);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  test('idleSessions reads the activity index with ZRANGEBYSCORE only, whatever the session count', async ({ redis }) => {
    const store = createRedisStore({ url: redis.url, keyPrefix: 'idle:' });
    const admin = new Redis(redis.url);
    try {
      for (let i = 0; i < 200; i++) {
        await store.sessions.createSession({ ...record(`s${i}`, i < 3 ? 10 + i : 5000), sandbox: null });
        const token = (await store.bindings.acquireLock(`s${i}`, 10_000))!;
        await store.bindings.setSandbox(`s${i}`, { sandboxId: `sb${i}`, url: 'http://127.0.0.2:8000', authToken: 't', profile: 'default', claimedAt: 1 }, token);
      }
      const cost = await countCommands(admin, () => store.bindings.idleSessions(100, 50));
      expect(cost.result).toEqual(['s0', 's1', 's2']);
      expect(Object.keys(cost.commands)).toEqual(['zrangebyscore']);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  test('every key carries the prefix; a second store on the same prefix sees the same sessions', async ({ redis }) => {
    const a = createRedisStore({ url: redis.url, keyPrefix: 'shared:' });
    const b = createRedisStore({ url: redis.url, keyPrefix: 'shared:' });
    const other = createRedisStore({ url: redis.url, keyPrefix: 'elsewhere:' });
    const admin = new Redis(redis.url);
    try {
      await a.sessions.createSession(record('s1'));
      await a.transcripts.appendTranscript('s1', [{ sdkSessionId: 'x', subpath: '', entry: { type: 'user', uuid: 'u1' } }]);
      await a.standbys.addStandby('p', { sandboxId: 'sb', data: '{}' });
      expect((await b.sessions.checkAndTouch('s1', 'alice', 2000)).kind).toBe('owned');
      expect(await other.sessions.getSession('s1')).toBeNull();
      const keys = await admin.keys('shared:*');
      expect(keys.length).toBeGreaterThanOrEqual(5);
      expect(keys.every((k) => /^shared:\{(route:\d+|tenant:alice|pool:p)\}:/.test(k))).toBe(true);
    } finally {
      admin.disconnect();
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  test('usage hashes written before the usage index existed are paged whole: the first page indexes them once', async ({ redis }) => {
    const store = createRedisStore({ url: redis.url, keyPrefix: 'legacy-usage:' });
    const admin = new Redis(redis.url);
    const keys = new RedisKeys('legacy-usage:');
    const fields = (n: number) => ({ inputTokens: n, outputTokens: 2 * n, cacheCreationInputTokens: 0, cacheReadInputTokens: 3 * n });
    try {
      // The layout the Redis store wrote before: one hash of counters, no index, no marker.
      const legacy: Record<string, string> = {};
      for (let i = 0; i < 12; i++) {
        const id = `old-${String(i).padStart(2, '0')}`;
        for (const [name, value] of Object.entries(fields(i + 1))) if (value !== 0) legacy[`session:${id}:${name}`] = String(value);
      }
      Object.assign(legacy, { 'tenant:inputTokens': '78', 'tenant:outputTokens': '156', 'tenant:cacheReadInputTokens': '234' });
      await admin.hset(keys.tenantUsage('alice'), legacy);
      // A session metered after the upgrade, before any page was read.
      await store.usage.addUsage('alice', 'new-1', fields(1));
      const ids: string[] = [];
      let after: string | null = null;
      do {
        const page = await store.usage.usagePage('alice', { after, limit: 5 });
        expect(page.tenant).toEqual(fields(79));
        for (const s of page.sessions) {
          ids.push(s.sessionId);
          expect(s.usage).toEqual(s.sessionId === 'new-1' ? fields(1) : fields(Number(s.sessionId.slice(4)) + 1));
        }
        after = page.next;
      } while (after !== null);
      expect(ids).toEqual([...Array.from({ length: 12 }, (_, i) => `old-${String(i).padStart(2, '0')}`), 'new-1'].sort());
      expect(await admin.zcard(keys.tenantUsageSessions('alice'))).toBe(13);
      expect((await store.usage.getUsage('alice')).tenant).toEqual(fields(79));
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  test('usageSummary and sessionUsage read neither the sessions nor the whole hash, whatever the tenant holds', async ({ redis }) => {
    const store = createRedisStore({ url: redis.url, keyPrefix: 'narrow-usage:' });
    const admin = new Redis(redis.url);
    const tokens = { inputTokens: 1, outputTokens: 2, cacheCreationInputTokens: 0, cacheReadInputTokens: 3 };
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.usage.addUsage('alice', `s-${i}`, tokens)));
      const summary = await countCommands(admin, () => store.usage.usageSummary('alice'));
      expect(summary.result).toEqual({ tenant: { inputTokens: 300, outputTokens: 600, cacheCreationInputTokens: 0, cacheReadInputTokens: 900 }, sessionCount: 300 });
      const one = await countCommands(admin, () => store.usage.sessionUsage('alice', 's-42'));
      expect(one.result).toEqual(tokens);
      // Inside the scripts: the marker check, named fields and the index's cardinality or one
      // member; never HGETALL, HKEYS or a range of the index.
      for (const cost of [summary, one]) {
        expect((cost.commands.evalsha ?? 0) + (cost.commands.eval ?? 0)).toBe(1);
        for (const name of ['hgetall', 'hkeys', 'hvals', 'zrange', 'zrangebylex', 'scan', 'hscan']) expect([name, cost.commands[name]]).toEqual([name, undefined]);
      }
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  test('a budget window ledger gets one TTL on both its keys, renewed by each add; lifetime keys get none', async ({ redis }) => {
    const store = createRedisStore({ url: redis.url, keyPrefix: 'budget-ttl:' });
    const admin = new Redis(redis.url);
    const keys = new RedisKeys('budget-ttl:');
    const budget = { tokens: 1000, periodS: 3600 };
    const tokens = { inputTokens: 5, outputTokens: 5, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
    try {
      // 10 minutes before the window's end: the ledger lives those 10 minutes plus the grace.
      const window = budgetWindow(budget, 472_223 * 3_600_000);
      const nowMs = window.endsAt - 600_000;
      await recordUsage(store.usage, 'alice', 's1', tokens, budget, nowMs);
      const windowKeys = [keys.tenantUsage(budgetKey('alice', window)), keys.tenantUsageSessions(budgetKey('alice', window))];
      const expectedMs = 600_000 + BUDGET_WINDOW_GRACE_MS;
      for (const key of windowKeys) {
        const ttlMs = await admin.pttl(key);
        // Counted down on the server from the add: at most what was set, and not far below it.
        expect([key, ttlMs <= expectedMs && ttlMs > expectedMs - 60_000]).toEqual([key, true]);
      }
      for (const key of [keys.tenantUsage('alice'), keys.tenantUsageSessions('alice')]) expect([key, await admin.pttl(key)]).toEqual([key, -1]);
      // A later add in the same window sets the same end again (a shorter TTL from a later now).
      await recordUsage(store.usage, 'alice', 's1', tokens, budget, nowMs + 300_000);
      for (const key of windowKeys) expect(await admin.pttl(key)).toBeLessThanOrEqual(expectedMs - 300_000);
      // An add without a TTL leaves the expiry as it is.
      await store.usage.addUsage(budgetKey('alice', window), 'window', tokens);
      for (const key of windowKeys) expect(await admin.pttl(key)).toBeGreaterThan(0);
      expect((await checkBudget(store.usage, 'alice', budget, nowMs + 300_001)).usedTokens).toBe(30);
    } finally {
      admin.disconnect();
      await store.close();
    }
  });

  test('a key prefix with a brace is refused (it would become every key’s hash tag)', async ({ redis }) => {
    expect(() => createRedisStore({ url: redis.url, keyPrefix: 'x{y}:' })).toThrow(/must not contain/);
  });
});
