// WebhookSink: the SessionEventSink (sessions/session-events.ts) that turns a session event into
// one queued delivery per matching endpoint of the event's tenant. Neighbours: the turn runner
// (calls publish), webhook-queue.ts (holds the deliveries), webhook-dispatcher.ts (woken here).
// publish never throws and never waits: the enqueue runs in the background, and one that fails
// (store unreachable) is counted and logged, not retried: that event's webhook is lost, which
// berth_gateway_webhook_enqueue_failures_total makes visible.

import type { Logger } from '../log.js';
import type { SessionEvent, SessionEventSink } from '../session-events.js';
import { findTenant, type TenantDirectory } from '../tenants/tenant.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import { buildWebhookPayload, newWebhookId } from './webhook-payload.js';
import type { WebhookQueue } from '../store/webhook-queue.js';

export interface WebhookSinkOptions {
  queue: WebhookQueue;
  tenants: () => TenantDirectory;
  metrics: WebhookMetrics;
  log: Logger;
  /** Called after each successful enqueue (the dispatcher's wake()). */
  onQueued?: () => void;
  now?: () => number;
  newId?: () => string;
}

export class WebhookSink implements SessionEventSink {
  private readonly now: () => number;
  private readonly newId: () => string;
  /** Enqueues still running; drain() waits for them (stop, tests). */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: WebhookSinkOptions) {
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? newWebhookId;
  }

  publish(event: SessionEvent): void {
    const { queue, metrics, log } = this.options;
    try {
      const endpoints = findTenant(this.options.tenants(), event.tenant)?.webhooks;
      if (!endpoints?.length) return;
      const payload = JSON.stringify(buildWebhookPayload(event));
      for (const endpoint of endpoints) {
        if (endpoint.events && !endpoint.events.includes(event.type)) continue;
        const delivery = { id: this.newId(), tenant: event.tenant, url: endpoint.url, payload, createdAt: event.at };
        const queued = queue.enqueue(delivery, this.now()).then(
          () => this.options.onQueued?.(),
          (error: unknown) => {
            metrics.enqueueFailures.inc();
            log.warn({ tenant: event.tenant, type: event.type, err: { message: (error as Error).message } }, 'webhook not queued: the store is unreachable');
          },
        );
        const tracked = queued.finally(() => this.pending.delete(tracked));
        this.pending.add(tracked);
      }
    } catch (error) {
      // A bug here must not reach the turn runner.
      log.error({ err: { message: (error as Error).message } }, 'webhook sink failed');
    }
  }

  /** Resolves when every enqueue started so far has finished (stopping, tests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
