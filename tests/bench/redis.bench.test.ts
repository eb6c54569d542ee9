// Benchmarks of the Redis route store on the hottest authenticated route, GET /sessions/{id}:
// - Redis commands per request, from the server's own INFO commandstats: exactly one EVALSHA (the
//   SessionGate: rate token, check+stamp, session-lease renewal, turn state) for an unlimited
//   tenant and for a limited one; what the script runs inside is counted by Redis under its own
//   names and reported, not counted as round trips;
// - the latency the Redis store adds to that request (Redis-backed stack minus an in-memory-store
//   stack, same request, back to back) as a ratio to a bare ioredis GET round trip, same run.
// Neighbours: measure.ts (rounds, JSON lines), fixtures/redis-server.ts, fixtures/redis-commandstats.ts.

import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { SessionRecord } from '@berth/gateway';
import { SESSION_GATE_LUA } from '@berth/gateway/store';
import { countCommands, luaCommandNames } from '../fixtures/redis-commandstats.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { authHeaders, startTestStack, type TestStack } from '../fixtures/stack.js';
import { compare, percentile, ROUNDS, type Sample } from './measure.js';

const SESSION = 'bench-redis-1';
/** bob's session: bob has every limit a request pays for (rate bucket, session lease), none of them near. */
const LIMITED_SESSION = 'bench-redis-limited';
const LIMITS = { bob: '    limits: { requestsPerMinute: 1000000, maxConcurrentSessions: 1000, maxConcurrentTurns: 1000 }\n' };
/** Requests in the counted window. Small: the count is exact, not statistical. */
const COUNTED_REQUESTS = 50;

let redis: RedisServer;
let viaRedis: TestStack;
let inMemory: TestStack;
let admin: Redis;
let bare: Redis;

function record(id = SESSION, tenant = 'alice'): SessionRecord {
  const now = Date.now();
  return {
    id,
    tenant,
    profile: 'default',
    // A bound sandbox puts the session in the activity index, so the stamp's ZADD XX really moves it.
    sandbox: { sandboxId: 'sb-bench', url: 'http://127.0.0.1:9', authToken: 'unused', profile: 'default', claimedAt: now },
    sdkSessionId: null,
    createdAt: now,
    lastActivityAt: now,
    turns: 0,
  };
}

beforeAll(async () => {
  redis = await startRedisServer();
  // Pool size 0: no agent processes; GET /sessions/{id} never touches the sandbox.
  viaRedis = await startTestStack({ poolSize: 0, redisUrl: redis.url, tenantExtra: LIMITS });
  inMemory = await startTestStack({ poolSize: 0, model: viaRedis.model, tenantExtra: LIMITS });
  // The idle reaper ticks every 15 s (ZRANGEBYSCORE); stopped so the counted window holds only
  // request traffic.
  // The relay rescuer looks for expired relay leases every 2 s (an EVALSHA): stopped too.
  for (const stack of [viaRedis, inMemory]) {
    await stack.stack.gateway!.reaper.stop();
    await stack.stack.gateway!.rescuer.stop();
  }
  for (const stack of [viaRedis, inMemory]) {
    expect((await stack.stack.store.sessions.createSession(record())).kind).toBe('created');
    expect((await stack.stack.store.sessions.createSession(record(LIMITED_SESSION, 'bob'))).kind).toBe('created');
  }
  admin = new Redis(redis.url);
  bare = new Redis(redis.url);
  await bare.set('bench:bare', 'x');
}, 120_000);

afterAll(async () => {
  admin?.disconnect();
  bare?.disconnect();
  await inMemory?.stop();
  await viaRedis?.stop();
  await redis?.stop();
});

async function getSession(stack: TestStack, id = SESSION, token = stack.tokens.alice): Promise<void> {
  const res = await fetch(`${stack.url}/sessions/${id}`, { headers: authHeaders(token) });
  if (res.status !== 200) throw new Error(`GET /sessions/${id} answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

test.each([
  ['an unlimited tenant', 'alice', SESSION],
  ['a limited tenant (rate bucket, session lease renewed)', 'bob', LIMITED_SESSION],
] as const)('Redis commands per GET /sessions/{id} for %s: exactly one EVALSHA (the SessionGate)', async (who, tenant, id) => {
  const get = (): Promise<void> => getSession(viaRedis, id, viaRedis.tokens[tenant]);
  // Warm-up: ioredis sends EVAL the first time a script runs on a connection, EVALSHA after.
  await get();
  const cost = await countCommands(admin, async () => {
    for (let i = 0; i < COUNTED_REQUESTS; i++) await get();
  });
  const inner = luaCommandNames(SESSION_GATE_LUA);
  const roundTrips = Object.entries(cost.commands).filter(([name]) => !inner.has(name));
  const insideScript = Object.fromEntries(Object.entries(cost.commands).filter(([name]) => inner.has(name)));
  console.log(JSON.stringify({
    bench: `redis_commands_per_get_session_${tenant === 'bob' ? 'limited' : 'unlimited'}`,
    tenant: who,
    requests: COUNTED_REQUESTS,
    roundTripsPerRequest: roundTrips.reduce((n, [, calls]) => n + calls, 0) / COUNTED_REQUESTS,
    roundTrips: Object.fromEntries(roundTrips),
    insideScript,
    note: 'counted with INFO commandstats on a private redis-server; insideScript = redis.call()s of the SessionGate EVALSHA, counted by Redis under their own names',
  }));
  expect(Object.fromEntries(roundTrips)).toEqual({ evalsha: COUNTED_REQUESTS });
  if (tenant === 'bob') {
    // The limited tenant's script really spent a token and renewed the lease (the session holds a sandbox).
    expect(insideScript.time).toBeGreaterThanOrEqual(COUNTED_REQUESTS);
    expect(insideScript.zadd).toBeGreaterThanOrEqual(COUNTED_REQUESTS);
  }
});

test('added latency of the Redis store vs a bare ioredis GET round trip', async () => {
  for (let i = 0; i < 20; i++) {
    await getSession(viaRedis);
    await getSession(inMemory);
  }
  // One sample = the same request on both stacks back to back; the difference is what the Redis
  // store adds (both stacks share everything else: auth, express, JSON). It can be negative in noise.
  const added: Sample = async () => {
    const a = performance.now();
    await getSession(viaRedis);
    const b = performance.now();
    await getSession(inMemory);
    return b - a - (performance.now() - b);
  };
  const bareGet: Sample = async () => {
    const start = performance.now();
    await bare.get('bench:bare');
    return performance.now() - start;
  };
  // Absolute request latencies, for context in the same line.
  const redisMs: number[] = [];
  const memoryMs: number[] = [];
  for (let i = 0; i < 10 * ROUNDS; i++) {
    let t = performance.now();
    await getSession(viaRedis);
    redisMs.push(performance.now() - t);
    t = performance.now();
    await getSession(inMemory);
    memoryMs.push(performance.now() - t);
  }
  const result = await compare('redis_added_latency_vs_bare_get', added, bareGet, 20, {
    getSessionRedisP50Ms: Math.round(percentile(redisMs, 50) * 1000) / 1000,
    getSessionMemoryP50Ms: Math.round(percentile(memoryMs, 50) * 1000) / 1000,
    note: 'candidate = GET /sessions/{id} on a Redis-backed stack minus the same request on an in-memory stack; baseline = ioredis GET on the same redis-server',
  });
  expect(result.candidate.samples).toBe(20 * ROUNDS);
  expect(result.baseline.samples).toBe(20 * ROUNDS);
  // One EVALSHA per request (counted by the test above) costs about one bare GET (≈1–3× idle).
  // The bound is loose for a busy machine; a retry loop or a timer in the store path breaks it.
  expect(result.ratioP50).toBeLessThan(10);
});
