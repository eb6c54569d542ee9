// Webhook metrics on the gateway's registry. Labels from small enums only: no tenant, URL or
// delivery id (a tenant's delivery history is in its receiver's logs, and in ours at debug).

import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * What became of one attempt: `delivered` (2xx), `retried` (failed, due again later),
 * `exhausted` (failed on its last attempt: dropped), `refused` (the address rules forbid the
 * endpoint: dropped), `unconfigured` (the endpoint left the tenants file: dropped).
 */
export type DeliveryOutcome = 'delivered' | 'retried' | 'exhausted' | 'refused' | 'unconfigured';

export interface WebhookMetrics {
  deliveries: Counter<'outcome'>;
  /** Events that could not be queued (store unreachable): lost, and counted here. */
  enqueueFailures: Counter;
  /** Deliveries queued, due or not; sampled from the store on scrape. */
  queued: Gauge;
  sampleQueuedWith(count: () => Promise<number>): void;
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  let sampler: (() => Promise<number>) | undefined;
  const queued = new Gauge({
    name: 'berth_gateway_webhook_queued',
    help: 'Webhook deliveries waiting in the store, deployment-wide (use max() across replicas).',
    registers: [registry],
    async collect() {
      if (!sampler) return;
      // A store outage keeps the last value rather than failing the whole scrape.
      try {
        queued.set(await sampler());
      } catch {
        /* stale value; /readyz reports the outage */
      }
    },
  });
  return {
    deliveries: new Counter({
      name: 'berth_gateway_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, retried, exhausted, refused, unconfigured).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    enqueueFailures: new Counter({
      name: 'berth_gateway_webhook_enqueue_failures_total',
      help: 'Session events whose webhook deliveries could not be queued (store unreachable).',
      registers: [registry],
    }),
    queued,
    sampleQueuedWith(count) {
      sampler = count;
    },
  };
}
