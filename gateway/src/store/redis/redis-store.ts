// The Redis Store: the store of every multi-replica deployment. All ports share one client (or
// one the caller passes: Cluster, a shared connection). Each operation that must be atomic is
// one Lua script (redis-scripts.ts) over keys of one hash slot (redis-keys.ts), so it runs on a
// single Redis, behind Sentinel, or on Redis Cluster. Expiry (locks, leases,
// never-bound records) runs on the Redis server's clock, so replicas with skewed clocks agree;
// callers pass their own timestamps for records and activity. Connection policy and error
// mapping: redis-connection.ts. It does not reap or sweep; it answers the questions reapers and
// sweeps ask.

import { DEFAULT_STORE_LIMITS, checkStoreLimits, type Store, type StoreLimits } from '../store.js';
import { RedisCommands } from './redis-commands.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, createRedisClient, type RedisClient, type RedisConnectionOptions } from './redis-connection.js';
import { DEFAULT_KEY_PREFIX, RedisKeys } from './redis-keys.js';
import { RedisQuotaCounters } from './redis-quota-counters.js';
import { RedisSandboxBindings } from './redis-sandbox-bindings.js';
import { RedisSessionListing } from './redis-session-listing.js';
import { RedisSessionRecords } from './redis-session-records.js';
import { RedisStandbyRegistry } from './redis-standby-registry.js';
import { RedisTranscriptLog } from './redis-transcript-log.js';
import { RedisUsageLedger } from './redis-usage-ledger.js';

export interface RedisStoreOptions extends RedisConnectionOptions {
  /**
   * A client to use instead of building one (Cluster, or a shared connection). The store does not
   * close it, and its options are the caller's: apply `failurePolicy()` for berth's behaviour.
   */
  client?: RedisClient;
  /** Prefix of every key. Default 'berth:'. Must not contain '{' or '}' (hash tags). */
  keyPrefix?: string;
  limits?: Partial<StoreLimits>;
}

export interface RedisStore extends Store {
  readonly technology: 'redis';
  /** The connection every port shares (tests count its commands). */
  readonly client: RedisClient;
}

export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const limits = { ...DEFAULT_STORE_LIMITS, ...options.limits };
  checkStoreLimits(limits);
  const keys = new RedisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const ownsClient = !options.client;
  const client = options.client ?? createRedisClient(options);
  // Without a listener ioredis prints every connection error; failures reach callers as
  // StoreUnavailableError instead, and ping() feeds /readyz.
  if (ownsClient) client.on('error', () => undefined);
  const redis = new RedisCommands(client, keys, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
  return {
    technology: 'redis',
    client,
    sessions: new RedisSessionRecords(redis, Math.ceil(limits.unboundTtlS * 1000)),
    listing: new RedisSessionListing(redis),
    bindings: new RedisSandboxBindings(redis),
    transcripts: new RedisTranscriptLog(redis, limits.maxTranscriptBytes),
    standbys: new RedisStandbyRegistry(redis),
    usage: new RedisUsageLedger(redis),
    quotas: new RedisQuotaCounters(redis),
    async ping() {
      await redis.run(() => client.ping());
    },
    async close() {
      if (!ownsClient) return;
      // quit() waits for replies to what is in flight; when Redis is down there is nothing to wait
      // for, and disconnect() also stops the reconnect timer so no handle outlives the store.
      await client.quit().catch(() => undefined);
      client.disconnect();
    },
  };
}
