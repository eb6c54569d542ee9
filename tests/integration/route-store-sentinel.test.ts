// The RouteStore contract against RedisRouteStore reaching its master through Redis Sentinel
// (ioredis asks the sentinel for the master of group 'mymaster'): the `sentinels` option path,
// with berth's failure policy, against a real redis-server and a real sentinel. Failover itself
// is ioredis' and Sentinel's job and is not exercised here.

import { afterAll, beforeAll } from 'vitest';
import { RedisRouteStore } from '@berth/gateway';
import { runRouteStoreContract } from '../contracts/route-store-contract.js';
import { startRedisSentinel, startRedisServer, type RedisSentinel, type RedisServer } from '../fixtures/redis-server.js';

let master: RedisServer;
let sentinel: RedisSentinel;
let prefixes = 0;
beforeAll(async () => {
  master = await startRedisServer();
  sentinel = await startRedisSentinel(master);
});
afterAll(async () => {
  await sentinel?.stop();
  await master?.stop();
});

runRouteStoreContract({
  name: 'RedisRouteStore via Sentinel',
  serverClock: true,
  newStore: async ({ limits }) =>
    new RedisRouteStore({
      sentinels: [{ host: sentinel.host, port: sentinel.port }],
      sentinelName: sentinel.name,
      keyPrefix: `sentinel${++prefixes}:`,
      limits,
    }),
});
