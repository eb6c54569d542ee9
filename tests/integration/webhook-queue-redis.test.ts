// Runs the WebhookQueue contract against RedisWebhookQueue on one private redis-server: a second
// replica is a second queue with its own connection on the same key prefix. Then pins what only
// the Redis queue promises: what was queued survives the process that queued it.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { RedisWebhookQueue } from '@berth/gateway/store';
import { delivery, runWebhookQueueContract } from '../contracts/store/webhook-queue-contract.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';

let server: RedisServer;
let prefixes = 0;
const prefixOf = new WeakMap<object, string>();
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

runWebhookQueueContract({
  name: 'RedisWebhookQueue',
  // A fresh prefix per test is a fresh, empty queue without flushing what other tests hold.
  newQueue: async ({ sameStore }) => {
    const keyPrefix = (sameStore && prefixOf.get(sameStore)) ?? `whq${++prefixes}:`;
    const queue = new RedisWebhookQueue({ url: server.url, keyPrefix });
    prefixOf.set(queue, keyPrefix);
    return queue;
  },
});

test('RedisWebhookQueue: a delivery queued by a closed queue is claimed by a new one, keys under the prefix', async () => {
  const first = new RedisWebhookQueue({ url: server.url, keyPrefix: 'restart:' });
  await first.enqueue(delivery('kept'), 1000);
  await first.close();
  const second = new RedisWebhookQueue({ url: server.url, keyPrefix: 'restart:' });
  try {
    expect(await second.size()).toBe(1);
    const keys = await second.client.keys('*');
    expect(keys.filter((k) => k.startsWith('restart:')).sort()).toEqual(['restart:{webhooks}:attempts', 'restart:{webhooks}:data', 'restart:{webhooks}:due']);
    const [claimed] = await second.claim(1000, 10, 5000);
    expect(claimed).toMatchObject({ ...delivery('kept'), attempt: 1 });
  } finally {
    await second.close();
  }
});
