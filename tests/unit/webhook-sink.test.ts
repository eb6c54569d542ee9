// WebhookSink, the SessionEventSink the turn runner calls: it never throws and never waits, even
// when the store refuses the enqueue (the event is then counted as lost) or the tenants lookup
// itself fails; it queues one delivery per matching endpoint, and nothing for tenants without one.

import { expect, test } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { MemoryWebhookQueue } from '@berth/gateway/store';
import { StoreUnavailableError } from '@berth/gateway';
import { WebhookSink, createWebhookMetrics, type WebhookQueue } from '@berth/gateway/webhooks';
import type { TenantDirectory } from '@berth/gateway/tenants';
import { SECRET, sessionEvent, tenantWith } from '../fixtures/webhooks.js';

const directory = (tenants = [tenantWith('alice', [{ url: 'https://a.example/', secret: SECRET }, { url: 'https://b.example/', secret: SECRET, events: ['session.status_changed'] }])]): TenantDirectory =>
  ({ tenants: new Map(tenants.map((t) => [t.name, t])), adminTokenHashes: [] });

async function counter(registry: Registry, name: string): Promise<number> {
  const text = await registry.getSingleMetricAsString(name);
  return Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? 0);
}

test('one delivery per matching endpoint, the same body for each, nothing for a tenant without endpoints', async () => {
  const queue = new MemoryWebhookQueue();
  let woken = 0;
  const sink = new WebhookSink({ queue, tenants: () => directory(), metrics: createWebhookMetrics(new Registry()), log: pino({ level: 'silent' }), onQueued: () => woken++ });
  sink.publish(sessionEvent({ tenant: 'nobody' }));
  sink.publish(sessionEvent({ type: 'session.turn_ended' }));
  sink.publish(sessionEvent({ type: 'session.status_changed', status: 'running', stopReason: null }));
  await sink.drain();
  const queued = await queue.claim(Date.now() + 1, 10, 1000);
  expect(queued.map((d) => `${d.url} ${(JSON.parse(d.payload) as { type: string }).type}`).sort()).toEqual([
    'https://a.example/ session.status_changed',
    'https://a.example/ session.turn_ended',
    'https://b.example/ session.status_changed',
  ]);
  expect(woken).toBe(3);
});

test('a store that refuses the enqueue: publish returns normally, the loss is counted', async () => {
  const registry = new Registry();
  const failing: WebhookQueue = Object.assign(new MemoryWebhookQueue(), {
    enqueue: async () => {
      throw new StoreUnavailableError('Redis route store unavailable: the connection to Redis is down');
    },
  });
  const sink = new WebhookSink({ queue: failing, tenants: () => directory(), metrics: createWebhookMetrics(registry), log: pino({ level: 'silent' }) });
  expect(() => sink.publish(sessionEvent())).not.toThrow();
  await sink.drain();
  expect(await counter(registry, 'berth_gateway_webhook_enqueue_failures_total')).toBe(1);
});

test('a failing tenants lookup never reaches the caller', () => {
  const sink = new WebhookSink({
    queue: new MemoryWebhookQueue(),
    tenants: () => {
      throw new Error('boom');
    },
    metrics: createWebhookMetrics(new Registry()),
    log: pino({ level: 'silent' }),
  });
  expect(() => sink.publish(sessionEvent())).not.toThrow();
});
