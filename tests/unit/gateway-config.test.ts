import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '@berth/gateway/config';

describe('loadConfig', () => {
  test('defaults are the embedded, local ones', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, egressPort: 8081, backend: 'local', poolSize: 2, idleTimeoutS: 900, redisUrl: undefined });
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

  test('a present but empty value does not fall back to the default', () => {
    expect(() => loadConfig({ BERTH_HOST: '' })).toThrow(/BERTH_HOST is empty/);
  });
});
