// The RouteStore contract against RedisRouteStore reaching its master through Redis Sentinel
// (ioredis asks the sentinel for the master of group 'mymaster'), built the way `berth gateway`
// builds it: BERTH_REDIS_SENTINELS / BERTH_REDIS_SENTINEL_NAME through loadConfig and
// redisConnectionFromConfig, with berth's failure policy, against a real redis-server and a real
// sentinel. Failover itself is ioredis' and Sentinel's job and is not exercised here.

import { afterAll, beforeAll } from 'vitest';
import { RedisRouteStore } from '@berth/gateway';
import { loadConfig } from '@berth/gateway/config';
import { redisConnectionFromConfig } from '@berth/gateway/redis-from-config';
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
  newStore: async ({ limits }) => {
    const config = loadConfig({ BERTH_REDIS_SENTINELS: `${sentinel.host}:${sentinel.port}`, BERTH_REDIS_SENTINEL_NAME: sentinel.name });
    const connection = redisConnectionFromConfig(config);
    if (!connection?.sentinels) throw new Error(`the config did not name sentinels: ${JSON.stringify(connection)}`);
    return new RedisRouteStore({ ...connection, keyPrefix: `sentinel${++prefixes}:`, limits });
  },
});
