// Which Redis the config names, as the Redis store's connection options: a URL, Sentinels, or
// Cluster seed nodes (loadConfig already refused more than one). undefined = no Redis, so the
// in-process store. Pure, so the Sentinel and Cluster test runs build their stores through it.

import type { GatewayConfig } from './config.js';
import type { RedisConnectionOptions } from './store/redis/redis-connection.js';

export function redisConnectionFromConfig(config: Readonly<GatewayConfig>): RedisConnectionOptions | undefined {
  // Password and TLS apply to the data nodes (the Sentinel-found master, every cluster node);
  // a URL carries both itself (redis://:password@…, rediss://).
  const auth = {
    ...(config.redisPassword ? { password: config.redisPassword } : {}),
    ...(config.redisTls ? { tls: {} } : {}),
  };
  if (config.redisClusterNodes) return { clusterNodes: config.redisClusterNodes, redisOptions: auth };
  if (config.redisSentinels) {
    return {
      sentinels: config.redisSentinels,
      sentinelName: config.redisSentinelName,
      redisOptions: {
        ...auth,
        ...(config.redisSentinelPassword ? { sentinelPassword: config.redisSentinelPassword } : {}),
        // Sentinels answer on plain TCP unless told otherwise; TLS there is a separate choice.
        ...(config.redisTls ? { enableTLSForSentinelMode: true } : {}),
      },
    };
  }
  if (config.redisUrl) return { url: config.redisUrl };
  return undefined;
}
