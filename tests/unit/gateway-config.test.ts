import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '@berth/gateway/testing';
import { redisConnectionFromConfig } from '@berth/gateway/testing';

describe('loadConfig', () => {
  test('defaults are the embedded, local ones', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, egressPort: 8081, backend: 'local', poolSize: 2, idleTimeoutS: 900, redisUrl: undefined, maxStreamsPerTenant: 256, maxConnections: 10_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('every bad variable is reported at once, naming it and the accepted range', () => {
    try {
      loadConfig({ BERTH_PORT: '99999', BERTH_BACKEND: 'docker', BERTH_REDIS_URL: 'http://x', BERTH_POOL_SIZE: 'two' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/BERTH_PORT="99999" must be an integer from 0 to 65535/);
      expect(problems).toMatch(/BERTH_BACKEND="docker" must be one of local, kubernetes, modal/);
      expect(problems).toMatch(/BERTH_REDIS_URL must be a redis: or rediss: URL/);
      expect(problems).toMatch(/BERTH_POOL_SIZE/);
      expect((error as ConfigError).problems).toHaveLength(4);
    }
  });

  test('the ingress bounds are configurable and bounded', () => {
    expect(loadConfig({ BERTH_MAX_CONNECTIONS: '20000', BERTH_MAX_STREAMS_PER_TENANT: '5000' })).toMatchObject({ maxConnections: 20_000, maxStreamsPerTenant: 5000 });
    expect(() => loadConfig({ BERTH_MAX_CONNECTIONS: '5' })).toThrow(/BERTH_MAX_CONNECTIONS="5" must be an integer from 16/);
  });

  test('a present but empty value does not fall back to the default', () => {
    expect(() => loadConfig({ BERTH_HOST: '' })).toThrow(/BERTH_HOST is empty/);
  });
});

describe('Redis topology', () => {
  test('BERTH_REDIS_SENTINELS and BERTH_REDIS_CLUSTER_NODES parse to host:port lists (IPv6 in brackets)', () => {
    const sentinel = loadConfig({ BERTH_REDIS_SENTINELS: 's1:26379, [::1]:26380', BERTH_REDIS_SENTINEL_NAME: 'berth' });
    expect(sentinel.redisSentinels).toEqual([{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }]);
    expect(sentinel.redisSentinelName).toBe('berth');
    expect(loadConfig({}).redisSentinelName).toBe('mymaster');
    expect(loadConfig({ BERTH_REDIS_CLUSTER_NODES: 'r1:6379,r2:6380' }).redisClusterNodes).toEqual([{ host: 'r1', port: 6379 }, { host: 'r2', port: 6380 }]);
  });

  test('bad entries, and more than one way to name Redis, are refused together', () => {
    try {
      loadConfig({ BERTH_REDIS_URL: 'redis://r:6379', BERTH_REDIS_SENTINELS: 's1:26379,s2', BERTH_REDIS_CLUSTER_NODES: 'r1:99999', BERTH_REDIS_TLS: 'yes' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/BERTH_REDIS_SENTINELS: "s2" must be host:port/);
      expect(problems).toMatch(/BERTH_REDIS_CLUSTER_NODES: "r1:99999" must be host:port/);
      expect(problems).toMatch(/BERTH_REDIS_TLS="yes" must be true or false/);
      expect(problems).toMatch(/set only one of BERTH_REDIS_URL, BERTH_REDIS_SENTINELS, BERTH_REDIS_CLUSTER_NODES/);
    }
  });

  test('redisConnectionFromConfig: cluster nodes, sentinels (with passwords and TLS), a URL, or no Redis', () => {
    expect(redisConnectionFromConfig(loadConfig({}))).toBeUndefined();
    expect(redisConnectionFromConfig(loadConfig({ BERTH_REDIS_URL: 'redis://r:6379' }))).toEqual({ url: 'redis://r:6379' });
    expect(redisConnectionFromConfig(loadConfig({ BERTH_REDIS_CLUSTER_NODES: 'r1:6379', BERTH_REDIS_PASSWORD: 'pw' }))).toEqual({
      clusterNodes: [{ host: 'r1', port: 6379 }],
      redisOptions: { password: 'pw' },
    });
    expect(
      redisConnectionFromConfig(loadConfig({ BERTH_REDIS_SENTINELS: 's1:26379', BERTH_REDIS_SENTINEL_PASSWORD: 'spw', BERTH_REDIS_TLS: 'true' })),
    ).toEqual({
      sentinels: [{ host: 's1', port: 26379 }],
      sentinelName: 'mymaster',
      redisOptions: { tls: {}, sentinelPassword: 'spw', enableTLSForSentinelMode: true },
    });
  });
});

describe('BERTH_EGRESS_METRICS_PORT', () => {
  test('unset serves no egress metrics listener; a port, or 0 for a free one, is taken; out of range is refused', () => {
    expect(loadConfig({}).egressMetricsPort).toBeUndefined();
    expect(loadConfig({ BERTH_EGRESS_METRICS_PORT: '9091' }).egressMetricsPort).toBe(9091);
    expect(loadConfig({ BERTH_EGRESS_METRICS_PORT: '0' }).egressMetricsPort).toBe(0);
    expect(() => loadConfig({ BERTH_EGRESS_METRICS_PORT: '70000' })).toThrow(/BERTH_EGRESS_METRICS_PORT="70000" must be an integer from 0 to 65535/);
  });
});
