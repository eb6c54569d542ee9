// Webhook configuration: the tenants file's `webhooks:` key (every problem reported with its
// path, the file refused whole), the BERTH_WEBHOOK_* variables, and the retry schedule.

import { describe, expect, test } from 'vitest';
import { loadConfig, ConfigError } from '@berth/gateway/testing';
import { parseTenants, TenantsFileError } from '@berth/gateway/tenants';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from '@berth/gateway/webhooks';

const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

function tenantsWith(webhooks: string): string {
  return `tenants:\n  alice:\n    webhooks: ${webhooks}\n`;
}

function problemsOf(text: string): string[] {
  try {
    parseTenants(text);
  } catch (error) {
    if (error instanceof TenantsFileError) return error.problems;
    throw error;
  }
  return [];
}

describe('tenants file: webhooks', () => {
  test('endpoints parse with url, secret and an optional event filter; absent means none', () => {
    const directory = parseTenants(tenantsWith(`[{ url: "https://hooks.example.com/berth", secret: "${SECRET}" }, { url: "http://10.0.0.5:8080/x?k=1", secret: "${SECRET}", events: [session.turn_ended] }]`));
    expect(directory.tenants.get('alice')!.webhooks).toEqual([
      { url: 'https://hooks.example.com/berth', secret: SECRET },
      { url: 'http://10.0.0.5:8080/x?k=1', secret: SECRET, events: ['session.turn_ended'] },
    ]);
    expect(parseTenants('tenants:\n  bob: {}\n').tenants.get('bob')!.webhooks).toBeUndefined();
  });

  test('what the queue relies on: no credentials in a url, each url once per tenant (every problem with its path)', () => {
    const problems = problemsOf(tenantsWith(`[
      { url: "https://user:pw@x.example/", secret: "${SECRET}" },
      { url: "https://a.example/", secret: "${SECRET}" },
      { url: "https://a.example/", secret: "${SECRET}" }
    ]`));
    expect(problems).toEqual([
      'tenants.alice.webhooks[0].url: must not carry a user name or password',
      'tenants.alice.webhooks[2].url: listed twice for this tenant; give each endpoint once',
    ]);
    // The secret itself never appears in a problem.
    expect(problems.join('\n')).not.toContain(SECRET.slice(6));
  });
});

describe('BERTH_WEBHOOK_* variables', () => {
  test('defaults: private addresses refused, 10 s attempts, 22 attempts from 5 s', () => {
    expect(loadConfig({}).webhooks).toEqual({ allowPrivate: false, timeoutMs: 10_000, maxAttempts: 22, retryBaseMs: 5_000 });
    expect(loadConfig({ BERTH_WEBHOOK_ALLOW_PRIVATE: '1', BERTH_WEBHOOK_RETRY_BASE_MS: '5' }).webhooks).toMatchObject({ allowPrivate: true, retryBaseMs: 5 });
  });

  test('bad values are reported at once, never defaulted', () => {
    let error: unknown;
    try {
      loadConfig({ BERTH_WEBHOOK_ALLOW_PRIVATE: 'yes', BERTH_WEBHOOK_TIMEOUT_MS: '5', BERTH_WEBHOOK_MAX_ATTEMPTS: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'BERTH_WEBHOOK_ALLOW_PRIVATE="yes" must be true or false',
      'BERTH_WEBHOOK_TIMEOUT_MS="5" must be an integer from 100 to 120000',
      'BERTH_WEBHOOK_MAX_ATTEMPTS="0" must be an integer from 1 to 100',
    ]);
  });
});

describe('retry schedule', () => {
  test('doubles from the base, caps at the maximum, stops after maxAttempts', () => {
    const policy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1000 };
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, mid))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelayMs(policy, 6, mid)).toBeNull();
  });

  test('jitter stays within ±20 %', () => {
    const policy = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect(retryDelayMs(policy, 1, () => 0)).toBe(800);
    expect(retryDelayMs(policy, 1, () => 0.999999)).toBe(1200);
  });

  test('the default schedule spans about a day: between 20 and 24 hours from first to last attempt', () => {
    let totalMs = 0;
    for (let n = 1; n < DEFAULT_RETRY_POLICY.maxAttempts; n++) totalMs += retryDelayMs(DEFAULT_RETRY_POLICY, n, () => 0.5)!;
    expect(totalMs / 3600_000).toBeGreaterThan(20);
    expect(totalMs / 3600_000).toBeLessThan(24);
  });
});
