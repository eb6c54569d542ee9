// Every store port contract, and the turn ledger, event log and ports-composed session gate the
// gateway adds on Cluster, against a real three-node Redis Cluster (the slots split between the
// nodes) through ioredis' Cluster client built the way `berth gateway` builds it
// (BERTH_REDIS_CLUSTER_NODES through loadConfig and redisConnectionFromConfig, so the store owns
// the client and applies berth's failure policy). Two checks in one run: Redis refuses any
// command or script whose keys span hash slots (CROSSSLOT), so every script stays inside one
// slot; and a session's keys, the `{relay}` slot and other sessions sit on different nodes, where
// the client refuses one pipeline spanning nodes (a one-node cluster never shows that). It also
// pins keySlot() against CLUSTER KEYSLOT.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { createRedisStore } from '@berth/gateway';
import { loadConfig } from '@berth/gateway/testing';
import { redisConnectionFromConfig } from '@berth/gateway/testing';
import { PortsSessionGate, RedisEventLog, RedisKeys, RedisTurnLedger, keySlot } from '@berth/gateway/store';
import { runStoreContracts } from '../contracts/store/index.js';
import { runEventLogContract } from '../contracts/store/event-log-contract.js';
import { runTurnLedgerContract } from '../contracts/store/turn-ledger-contract.js';
import { runSessionGateContract } from '../contracts/store/session-gate-contract.js';
import { startRedisCluster, type RedisCluster } from '../fixtures/redis-server.js';

let cluster: RedisCluster;
let prefixes = 0;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
});
afterAll(async () => {
  await cluster?.stop();
});

function connection() {
  const found = redisConnectionFromConfig(loadConfig({ BERTH_REDIS_CLUSTER_NODES: cluster.seeds }));
  if (!found?.clusterNodes) throw new Error(`the config did not name cluster nodes: ${JSON.stringify(found)}`);
  return found;
}

const sharedPrefixes = new Map<string, string>();
function prefixFor(shared?: string): string {
  if (!shared) return `nodes${++prefixes}:`;
  let prefix = sharedPrefixes.get(shared);
  if (!prefix) sharedPrefixes.set(shared, (prefix = `nodes${++prefixes}:`));
  return prefix;
}

runStoreContracts({
  name: 'Redis store on a three-node Redis Cluster',
  serverClock: true,
  newStore: async ({ limits }) => {
    const store = createRedisStore({ ...connection(), keyPrefix: prefixFor(), limits });
    expect(store.client).toBeInstanceOf(Cluster);
    return store;
  },
});

runTurnLedgerContract({
  name: 'RedisTurnLedger on a three-node Redis Cluster',
  newLedger: async ({ shared }) => new RedisTurnLedger({ ...connection(), keyPrefix: prefixFor(shared) }),
});

runEventLogContract({
  name: 'RedisEventLog on a three-node Redis Cluster',
  newLog: async ({ limits, shared }) => new RedisEventLog({ ...connection(), keyPrefix: prefixFor(shared), ...(limits ? { limits } : {}) }),
});

runSessionGateContract({
  name: 'PortsSessionGate over the Redis ports on a three-node Redis Cluster',
  newGate: async () => {
    const keyPrefix = prefixFor();
    const store = createRedisStore({ ...connection(), keyPrefix });
    const ledger = new RedisTurnLedger({ ...connection(), keyPrefix });
    return { gate: new PortsSessionGate({ sessions: store.sessions, quotas: store.quotas, ledger }), store, ledger, close: async () => { await ledger.close(); await store.close(); } };
  },
});

/** Which node (its port) owns a key's slot, from CLUSTER SLOTS. */
async function slotOwners(): Promise<(key: string) => number> {
  const admin = new Redis(cluster.nodes[0]!.url);
  try {
    const ranges = (await admin.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
    return (key) => ranges.find(([first, last]) => keySlot(key) >= first && keySlot(key) <= last)![2][1];
  } finally {
    admin.disconnect();
  }
}

describe('hash slots and nodes', () => {
  test('the cluster refuses a cross-slot script, so the contract runs above are a real check', async () => {
    const admin = new Cluster(connection().clusterNodes!);
    try {
      await expect(admin.eval('return 1', 2, '{route:1}:a', '{route:2}:b')).rejects.toThrow(/CROSSSLOT/);
      await expect(admin.eval('return 1', 2, '{route:1}:a', '{route:1}:b')).resolves.toBe(1);
    } finally {
      admin.disconnect();
    }
  });

  test('keySlot agrees with CLUSTER KEYSLOT, and every key of a session shares one slot', async () => {
    const admin = new Redis(cluster.nodes[0]!.url);
    try {
      const keys = new RedisKeys('berth:');
      for (const id of ['s1', 'demo-1', 'A', 'x_y-z', 'a'.repeat(64)]) {
        const k = keys.session(id);
        const slots = new Set(Object.values(k).map(keySlot));
        expect(slots.size).toBe(1);
        expect(await admin.call('CLUSTER', 'KEYSLOT', k.record)).toBe(keySlot(k.record));
      }
      for (const key of [keys.tenantSessions('al{ice}'), keys.tenantUsage('bob'), keys.standbyIds('gpu'), '123456789', 'no-tag', '{}empty']) {
        expect(await admin.call('CLUSTER', 'KEYSLOT', key)).toBe(keySlot(key));
      }
      expect(keySlot(keys.tenantSessions('al{ice}'))).toBe(keySlot(keys.tenantUsage('al{ice}')));
      // The usage scripts take the counters and their index together.
      expect(keySlot(keys.tenantUsageSessions('al{ice}'))).toBe(keySlot(keys.tenantUsage('al{ice}')));
      expect(keySlot(keys.standbyIds('gpu'))).toBe(keySlot(keys.standbyData('gpu')));
    } finally {
      admin.disconnect();
    }
  });

  test('the slots are split between the nodes, so a pipeline across them is refused by the client: the runs above are a real check', async () => {
    const client = new Cluster(connection().clusterNodes!);
    try {
      const ownerOf = await slotOwners();
      expect(new Set(['{a}', '{b}', '{c}', '{d}', '{e}', '{f}'].map(ownerOf)).size).toBe(3);
      const record = new RedisKeys('berth:').session('s1').record;
      const other = ['{relay}:leases', '{a}', '{b}', '{c}'].find((key) => ownerOf(key) !== ownerOf(record))!;
      await expect(client.pipeline().get(record).get(other).exec()).rejects.toThrow(/same slots allocation group/);
    } finally {
      client.disconnect();
    }
  });

  test("the turn ledger reads and removes sessions whose state lives on every node (a listing page's getMany)", async () => {
    const keyPrefix = prefixFor();
    const ledger = new RedisTurnLedger({ ...connection(), keyPrefix });
    try {
      const keys = new RedisKeys(keyPrefix);
      const ids = Array.from({ length: 12 }, (_, i) => `spread-${i}`);
      const owners = await slotOwners();
      expect(new Set(ids.map((id) => owners(keys.session(id).turnState))).size).toBe(3);
      for (const [i, id] of ids.entries()) await ledger.begin(id, i + 1, 'replica-a', 60_000, Date.now());
      expect((await ledger.getMany(ids)).map((state) => state.currentTurn)).toEqual(ids.map((_, i) => i + 1));
      await Promise.all(ids.map((id) => ledger.remove(id)));
      expect((await ledger.getMany(ids)).every((state) => state.currentTurn === null)).toBe(true);
    } finally {
      await ledger.close();
    }
  });
});
