// Pins how berth_gateway_sessions is sampled: from the source startGateway gives it (the route
// store's bounded count) on scrape, at most once per SESSIONS_SAMPLE_MIN_INTERVAL_MS however
// many scrapes arrive, and a failing source leaves the last value instead of failing the scrape.

import { describe, expect, test } from 'vitest';
import { createGatewayMetrics, SESSIONS_SAMPLE_MIN_INTERVAL_MS } from '@berth/gateway/testing';

describe('berth_gateway_sessions', () => {
  test('sampled on scrape, at most once per interval, last value kept when the store fails', async () => {
    expect(SESSIONS_SAMPLE_MIN_INTERVAL_MS).toBeGreaterThanOrEqual(1000);
    const metrics = createGatewayMetrics();
    // No source yet: the gauge reads 0 and nothing is queried.
    expect(await metrics.registry.getSingleMetricAsString('berth_gateway_sessions')).toContain('berth_gateway_sessions 0');
    let calls = 0;
    metrics.sampleSessionsWith(async () => {
      calls++;
      return 7;
    });
    expect(await metrics.registry.getSingleMetricAsString('berth_gateway_sessions')).toContain('berth_gateway_sessions 7');
    await Promise.all(Array.from({ length: 5 }, () => metrics.registry.metrics()));
    expect(calls).toBe(1);
    // A new source is sampled at once; when it fails, the scrape still answers with the last value.
    metrics.sampleSessionsWith(async () => {
      throw new Error('store down');
    });
    expect(await metrics.registry.getSingleMetricAsString('berth_gateway_sessions')).toContain('berth_gateway_sessions 7');
  });
});
