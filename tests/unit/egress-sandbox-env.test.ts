// Pins gateway/src/egress/sandbox-env.ts: the sandbox's model endpoint and proxy settings carry
// the session credential (never a real key), in both upper and lower case, with the gateway in
// NO_PROXY (agent-sdk-offline.md §7 and §11).
import { describe, expect, test } from 'vitest';
import { sandboxEgressEnv, sandboxEgressSettings } from '@berth/gateway/egress';

describe('sandbox egress settings', () => {
  test('bootstrap fields and environment', () => {
    const credential = 'eyJhbGciOiJIUzI1NiJ9.eyJ0ZW4iOiJhIn0.c2ln';
    expect(sandboxEgressSettings({ publicUrl: 'http://berth-egress.berth:8081/', credential })).toEqual({
      model: { baseUrl: 'http://berth-egress.berth:8081', apiKey: credential },
      egress: { proxyUrl: `http://berth:${credential}@berth-egress.berth:8081`, noProxy: ['berth-egress.berth'] },
    });
    const env = sandboxEgressEnv({ publicUrl: 'http://127.0.0.1:8081', credential });
    expect(env).toEqual({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:8081',
      ANTHROPIC_API_KEY: credential,
      HTTPS_PROXY: `http://berth:${credential}@127.0.0.1:8081`,
      HTTP_PROXY: `http://berth:${credential}@127.0.0.1:8081`,
      https_proxy: `http://berth:${credential}@127.0.0.1:8081`,
      http_proxy: `http://berth:${credential}@127.0.0.1:8081`,
      NO_PROXY: '127.0.0.1',
      no_proxy: '127.0.0.1',
    });
  });
});
