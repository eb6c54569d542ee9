// Runs the EventLog, TurnLedger and SessionGate contracts against the in-process and the Redis
// implementations (one private redis-server for this file), then pins what only Redis promises:
// frames are stream entries `<turn>-<seq>` under the session's route slot, tails cost one
// subscriber connection per replica and no command while idle, and the gate is one EVALSHA.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryEventLog } from '@berth/gateway/store';
import { MemoryTurnLedger } from '@berth/gateway/store';
import { RedisEventLog } from '@berth/gateway/store';
import { RedisTurnLedger } from '@berth/gateway/store';
import type { EventLog } from '@berth/gateway/store';
import type { TurnLedger } from '@berth/gateway/store';
import { runEventLogContract } from '../contracts/store/event-log-contract.js';
import { runTurnLedgerContract } from '../contracts/store/turn-ledger-contract.js';
import { runSessionGateContract } from '../contracts/store/session-gate-contract.js';
import { bind as bindSandbox, record } from '../contracts/store/store-contract-kit.js';
import { createMemoryStore, createRedisStore } from '@berth/gateway/store';
import { PortsSessionGate } from '@berth/gateway/store';
import { RedisSessionGate, SESSION_GATE_LUA } from '@berth/gateway/store';
import { countCommands, luaCommandNames } from '../fixtures/redis-commandstats.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';

let server: RedisServer;
let prefixes = 0;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

const memoryLogs = new Map<string, MemoryEventLog>();
runEventLogContract({
  name: 'MemoryEventLog',
  newLog: async ({ limits, shared }) => {
    if (!shared) return new MemoryEventLog(limits);
    let log = memoryLogs.get(shared);
    if (!log) memoryLogs.set(shared, (log = new MemoryEventLog(limits)));
    // One process: "another replica" is the same log (close() of one must not end the other's test).
    return { ...bind(log), close: async () => undefined } as EventLog;
  },
});

const sharedPrefixes = new Map<string, string>();
const prefixFor = (shared?: string): string => {
  if (!shared) return `events${++prefixes}:`;
  let prefix = sharedPrefixes.get(shared);
  if (!prefix) sharedPrefixes.set(shared, (prefix = `events${++prefixes}:`));
  return prefix;
};

runEventLogContract({
  name: 'RedisEventLog',
  newLog: async ({ limits, shared }) => new RedisEventLog({ url: server.url, keyPrefix: prefixFor(shared), ...(limits ? { limits } : {}) }),
});

const memoryLedgers = new Map<string, MemoryTurnLedger>();
runTurnLedgerContract({
  name: 'MemoryTurnLedger',
  newLedger: async ({ shared }) => {
    if (!shared) return new MemoryTurnLedger();
    let ledger = memoryLedgers.get(shared);
    if (!ledger) memoryLedgers.set(shared, (ledger = new MemoryTurnLedger()));
    return ledger as TurnLedger;
  },
});

runTurnLedgerContract({
  name: 'RedisTurnLedger',
  newLedger: async ({ shared }) => new RedisTurnLedger({ url: server.url, keyPrefix: prefixFor(shared) }),
});

runSessionGateContract({
  name: 'PortsSessionGate over the in-process store',
  newGate: async () => {
    const store = createMemoryStore();
    const ledger = new MemoryTurnLedger();
    return { gate: new PortsSessionGate({ sessions: store.sessions, quotas: store.quotas, ledger }), store, ledger, close: () => store.close() };
  },
});

runSessionGateContract({
  name: 'RedisSessionGate (one script)',
  newGate: async () => {
    const keyPrefix = `gate${++prefixes}:`;
    const store = createRedisStore({ url: server.url, keyPrefix });
    const ledger = new RedisTurnLedger({ url: server.url, keyPrefix });
    const gate = new RedisSessionGate({ client: store.client, keyPrefix });
    return { gate, store, ledger, close: async () => { await ledger.close(); await store.close(); } };
  },
});

runSessionGateContract({
  name: 'PortsSessionGate over the Redis ports (what Redis Cluster runs)',
  newGate: async () => {
    const keyPrefix = `gate${++prefixes}:`;
    const store = createRedisStore({ url: server.url, keyPrefix });
    const ledger = new RedisTurnLedger({ url: server.url, keyPrefix });
    return { gate: new PortsSessionGate({ sessions: store.sessions, quotas: store.quotas, ledger }), store, ledger, close: async () => { await ledger.close(); await store.close(); } };
  },
});

describe('RedisSessionGate specifics', () => {
  test('one EVALSHA per request for a limited tenant (rate, stamp, lease renewal, turn state) and for an unlimited one', async () => {
    const keyPrefix = 'gate-count:';
    const store = createRedisStore({ url: server.url, keyPrefix });
    const gate = new RedisSessionGate({ client: store.client, keyPrefix });
    const admin = new Redis(server.url);
    try {
      await store.sessions.createSession(record('s1', 'alice'));
      await bindSandbox(store.bindings, 's1', 'sb-1');
      const limited = { sessionId: 's1', tenant: 'alice', rate: { capacity: 1000, refillPerS: 10 }, sessionLeaseTtlMs: 60_000 };
      // ioredis sends EVAL the first time, EVALSHA after.
      await gate.enter({ ...limited, now: 1 });
      const inner = luaCommandNames(SESSION_GATE_LUA);
      for (const request of [limited, { sessionId: 's1', tenant: 'alice' }]) {
        const cost = await countCommands(admin, async () => {
          for (let i = 0; i < 10; i++) expect((await gate.enter({ ...request, now: 10 + i })).kind).toBe('owned');
        });
        const roundTrips = Object.fromEntries(Object.entries(cost.commands).filter(([name]) => !inner.has(name)));
        expect(roundTrips).toEqual({ evalsha: 10 });
      }
    } finally {
      admin.disconnect();
      await store.close();
    }
  });
});

function bind(log: MemoryEventLog): EventLog {
  return {
    append: log.append.bind(log),
    read: log.read.bind(log),
    last: log.last.bind(log),
    watch: log.watch.bind(log),
    remove: log.remove.bind(log),
    close: log.close.bind(log),
  };
}

describe('RedisEventLog specifics', () => {
  test('a frame <turn>:<seq> is the stream entry <turn>-<seq> in the session route slot, bounded by MAXLEN', async () => {
    const log = new RedisEventLog({ url: server.url, keyPrefix: 'layout:', limits: { maxFrames: 2 } });
    await log.append('s-1', [{ id: '3:0', event: 'turn', data: '{}' }, { id: '3:1', event: 'message', data: 'x' }, { id: '3:2', event: 'done', data: 'y' }]);
    const redis = new Redis(server.url);
    const key = log.key('s-1');
    expect(key).toMatch(/^layout:\{route:\d+\}:events:s-1$/);
    expect(await redis.xrange(key, '-', '+')).toEqual([
      ['3-1', ['e', 'message', 'd', 'x']],
      ['3-2', ['e', 'done', 'd', 'y']],
    ]);
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    redis.disconnect();
    await log.close();
  });

  test('1000 idle tails on one replica: one subscriber connection, no command while nothing is appended', async () => {
    const prefix = 'idle:';
    const log = new RedisEventLog({ url: server.url, keyPrefix: prefix });
    const redis = new Redis(server.url);
    const subscribers = async (): Promise<number> => String(await redis.client('LIST')).split('\n').filter((c) => / sub=[1-9]/.test(c)).length;
    const clientsBefore = String(await redis.client('LIST')).split('\n').filter(Boolean).length;
    const subscribersBefore = await subscribers();
    const unwatch: Array<() => void> = [];
    for (let i = 0; i < 1000; i++) unwatch.push(log.watch(`idle-${i}`, () => undefined));
    // The subscriber is up once a publish reaches it (bounded poll).
    let heard = false;
    const probe = log.watch('probe', () => (heard = true));
    const writer = new RedisEventLog({ url: server.url, keyPrefix: prefix });
    for (let i = 1; !heard; i++) {
      if (i > 200) throw new Error('the subscriber never heard an append');
      await writer.append('probe', [{ id: `1:${i}`, event: 'message', data: '' }]);
      await new Promise((r) => setTimeout(r, 20));
    }
    probe();
    const clients = String(await redis.client("LIST")).split('\n').filter(Boolean);
    // Our own connection, the log's command connection, its subscriber and the writer's connection.
    expect(clients.length - clientsBefore).toBeLessThanOrEqual(3);
    expect((await subscribers()) - subscribersBefore).toBe(1);
    // A window in which 1000 polling tails would have run thousands of commands.
    const idle = await countCommands(redis, () => new Promise((r) => setTimeout(r, 500)));
    expect(idle.commands).toEqual({});
    for (const stop of unwatch) stop();
    redis.disconnect();
    await writer.close();
    await log.close();
  });
});
