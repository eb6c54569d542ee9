// Pins the gateway's process metrics and log format for stock tooling: Node.js process metrics
// under their standard names (process_cpu_seconds_total, nodejs_*), never with a berth prefix
// (which once doubled into berth_gateway_process_process_cpu_seconds_total); the egress role's
// own /metrics listener; pino log lines whose level is a name ("info"), not pino's number.

import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { createLogger } from '@berth/gateway/testing';
import { collectProcessMetrics, createGatewayMetrics, serveMetrics } from '@berth/gateway/testing';

describe('process metrics', () => {
  test('standard names, no berth prefix, and one set per registry however many roles ask', async () => {
    const metrics = createGatewayMetrics();
    collectProcessMetrics(metrics.registry); // the egress role of the same process: no duplicate registration
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).not.toMatch(/berth_\w*process_/);
    expect(text).not.toMatch(/^berth_\w*nodejs_/m);
  });
});

describe('serveMetrics', () => {
  test('GET /metrics answers the registry in Prometheus text; any other path is 404', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const server = await serveMetrics(registry, 0, '127.0.0.1');
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toMatch(/^process_cpu_seconds_total /m);
      const other = await fetch(server.url.replace(/\/metrics$/, '/v1/messages'));
      expect(other.status).toBe(404);
      await other.text();
    } finally {
      await server.close();
    }
  });
});

describe('log lines', () => {
  test('carry the level as its name', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('info', sink);
    log.warn({ token: 'secret' }, 'something');
    log.debug('not at info');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.level).toBe('warn');
    expect(line.msg).toBe('something');
  });
});
