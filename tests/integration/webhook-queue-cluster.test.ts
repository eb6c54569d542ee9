// The WebhookQueue contract against RedisWebhookQueue on a one-node Redis Cluster, built the way
// `berth gateway` builds it (BERTH_REDIS_CLUSTER_NODES through loadConfig and
// redisConnectionFromConfig). Cluster mode makes Redis refuse a script whose keys span hash
// slots (CROSSSLOT), so this run checks that every queue script stays inside `{webhooks}`.

import { afterAll, beforeAll, expect } from 'vitest';
import { Cluster } from 'ioredis';
import { loadConfig } from '@berth/gateway/testing';
import { redisConnectionFromConfig } from '@berth/gateway/testing';
import { RedisWebhookQueue } from '@berth/gateway/store';
import { runWebhookQueueContract } from '../contracts/store/webhook-queue-contract.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';

let server: RedisServer;
let prefixes = 0;
const prefixOf = new WeakMap<object, string>();
beforeAll(async () => {
  server = await startRedisServer({ cluster: true });
});
afterAll(async () => {
  await server?.stop();
});

runWebhookQueueContract({
  name: 'RedisWebhookQueue on Redis Cluster',
  newQueue: async ({ sameStore }) => {
    const connection = redisConnectionFromConfig(loadConfig({ BERTH_REDIS_CLUSTER_NODES: `${server.host}:${server.port}` }));
    if (!connection?.clusterNodes) throw new Error(`the config did not name cluster nodes: ${JSON.stringify(connection)}`);
    const keyPrefix = (sameStore && prefixOf.get(sameStore)) ?? `whcluster${++prefixes}:`;
    const queue = new RedisWebhookQueue({ ...connection, keyPrefix });
    expect(queue.client).toBeInstanceOf(Cluster);
    prefixOf.set(queue, keyPrefix);
    return queue;
  },
});
