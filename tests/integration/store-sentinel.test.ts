// Every store port contract against the Redis store reaching its master through Redis Sentinel
// (ioredis asks the sentinel for the master of group 'mymaster'), built the way `berth gateway`
// builds it: BERTH_REDIS_SENTINELS / BERTH_REDIS_SENTINEL_NAME through loadConfig and
// redisConnectionFromConfig, with berth's failure policy, against a real redis-server and a real
// sentinel. Failover itself is ioredis' and Sentinel's job and is not exercised here.

import { afterAll, beforeAll } from 'vitest';
import { createRedisStore } from '@berth/gateway';
import { loadConfig } from '@berth/gateway/testing';
import { redisConnectionFromConfig } from '@berth/gateway/testing';
import { runStoreContracts } from '../contracts/store/index.js';
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

runStoreContracts({
  name: 'Redis store via Sentinel',
  serverClock: true,
  newStore: async ({ limits }) => {
    const config = loadConfig({ BERTH_REDIS_SENTINELS: `${sentinel.host}:${sentinel.port}`, BERTH_REDIS_SENTINEL_NAME: sentinel.name });
    const connection = redisConnectionFromConfig(config);
    if (!connection?.sentinels) throw new Error(`the config did not name sentinels: ${JSON.stringify(connection)}`);
    return createRedisStore({ ...connection, keyPrefix: `sentinel${++prefixes}:`, limits });
  },
});
