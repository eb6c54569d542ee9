// Every store port contract against the Redis store on a one-node Redis Cluster (cluster mode on,
// all 16384 slots on one node), through ioredis' Cluster client built the way `berth gateway`
// builds it (BERTH_REDIS_CLUSTER_NODES through loadConfig and redisConnectionFromConfig, so the
// store owns the client and applies berth's failure policy). Cluster mode makes Redis itself
// refuse any command or script whose keys span hash slots (CROSSSLOT), so this run is the check
// that every script stays inside one slot. It also pins keySlot() against CLUSTER KEYSLOT.
// One node never shows a client-side mistake across nodes (one pipeline spanning them):
// store-cluster-nodes.test.ts runs the contracts on three.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { createRedisStore } from '@berth/gateway';
import { loadConfig } from '@berth/gateway/testing';
import { redisConnectionFromConfig } from '@berth/gateway/testing';
import { RedisKeys, keySlot } from '@berth/gateway/store';
import { runStoreContracts } from '../contracts/store/index.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';

let server: RedisServer;
let prefixes = 0;
beforeAll(async () => {
  server = await startRedisServer({ cluster: true });
});
afterAll(async () => {
  await server?.stop();
});

runStoreContracts({
  name: 'Redis store on Redis Cluster',
  serverClock: true,
  newStore: async ({ limits }) => {
    const config = loadConfig({ BERTH_REDIS_CLUSTER_NODES: `${server.host}:${server.port}` });
    const connection = redisConnectionFromConfig(config);
    if (!connection?.clusterNodes) throw new Error(`the config did not name cluster nodes: ${JSON.stringify(connection)}`);
    const store = createRedisStore({ ...connection, keyPrefix: `cluster${++prefixes}:`, limits });
    expect(store.client).toBeInstanceOf(Cluster);
    return store;
  },
});

describe('hash slots', () => {
  test('the cluster node refuses a cross-slot script, so the contract run above is a real check', async () => {
    const admin = new Redis(server.url);
    try {
      await expect(admin.eval('return 1', 2, '{route:1}:a', '{route:2}:b')).rejects.toThrow(/CROSSSLOT/);
      await expect(admin.eval('return 1', 2, '{route:1}:a', '{route:1}:b')).resolves.toBe(1);
    } finally {
      admin.disconnect();
    }
  });

  test('keySlot agrees with CLUSTER KEYSLOT, and every key of a session shares one slot', async () => {
    const admin = new Redis(server.url);
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
});
