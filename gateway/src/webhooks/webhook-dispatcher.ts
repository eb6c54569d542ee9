// The loop that empties the WebhookQueue: claims due deliveries (leased, so replicas never send
// the same attempt at once), sends each (webhook-sender.ts), then acks, reschedules with backoff
// (retry-policy.ts) or drops and counts. One per gateway replica, started and stopped with the
// stack. Neighbours: webhook-sink.ts (fills the queue and wakes this loop), webhook-queue.ts.
//
// Waking: at once after a local enqueue (wake()), after each finished attempt, at the earliest
// retry this replica scheduled, and otherwise every pollIntervalMs, which is how work queued or
// released by other replicas is found. It holds at most `concurrency` attempts at once. While no
// tenant has an endpoint it makes no store calls (deliveries still queued from endpoints removed
// since then wait, bounded by what was queued, until one is configured again).
// Stopping aborts attempts in flight and hands them back due at once, so another replica (or the
// next start) sends them without waiting out a lease; a replica that dies instead is covered by
// the lease running out.

import type { Logger } from '../log.js';
import type { TenantWebhook } from '../tenants/tenant.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import type { ClaimedWebhookDelivery, WebhookQueue } from '../store/webhook-queue.js';
import { retryDelayMs, type RetryPolicy } from './retry-policy.js';
import type { SendOutcome, WebhookMessage } from './webhook-sender.js';

export interface WebhookDispatcherOptions {
  queue: WebhookQueue;
  /** The endpoint as the tenants file in force has it; undefined once it was removed. */
  endpoint(tenant: string, url: string): TenantWebhook | undefined;
  /** Sends one attempt (sendWebhook with the address rules and timeout bound in). */
  send(message: WebhookMessage, signal: AbortSignal): Promise<SendOutcome>;
  retry: RetryPolicy;
  /**
   * How long a claim hides a delivery from other replicas, in ms. Must exceed one whole attempt
   * (the send timeout) or a slow attempt is sent again by another replica while it runs.
   */
  leaseMs: number;
  metrics: WebhookMetrics;
  log: Logger;
  now?: () => number;
  /** Jitter source for the backoff, [0, 1). */
  random?: () => number;
  /** Longest idle wait before looking at the queue again, in ms. Default 1 000: work another
   *  replica queued or released is picked up within a second, at one store call per second. */
  pollIntervalMs?: number;
  /**
   * Whether any tenant has a webhook endpoint. While false the loop makes no store calls at all,
   * so a deployment without webhooks pays nothing for them. Default: always true.
   */
  active?: () => boolean;
  /** Attempts in flight at once. Default 8: one slow receiver (up to the send timeout) does not
   *  hold up the others. */
  concurrency?: number;
}

export class WebhookDispatcher {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly pollIntervalMs: number;
  private readonly concurrency: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  /** Earliest retry this replica scheduled, so it wakes for it before the next poll. */
  private nextDueAt = Infinity;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.concurrency = options.concurrency ?? 8;
  }

  start(): void {
    if (this.running || this.abort.signal.aborted) return;
    this.running = true;
    this.schedule(0);
  }

  /** Look at the queue now (something was just queued). Cheap and safe to call often. */
  wake(): void {
    if (!this.running) return;
    if (this.pumping) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.pumping;
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), delayMs);
  }

  private pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = this.claimAndStart().finally(() => {
      this.pumping = undefined;
      if (!this.running) return;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      } else this.schedule(this.idleDelayMs());
    });
    return this.pumping;
  }

  private async claimAndStart(): Promise<void> {
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return; // a finishing attempt wakes the loop
    if (this.options.active && !this.options.active()) return;
    const now = this.now();
    if (now >= this.nextDueAt) this.nextDueAt = Infinity;
    let claimed: ClaimedWebhookDelivery[];
    try {
      claimed = await this.options.queue.claim(now, free, this.options.leaseMs);
    } catch (error) {
      this.options.log.warn({ err: { message: (error as Error).message } }, 'webhook queue unreachable; retrying at the next poll');
      return;
    }
    for (const delivery of claimed) {
      const attempt = this.attempt(delivery).finally(() => {
        this.inFlight.delete(attempt);
        this.wake();
      });
      this.inFlight.add(attempt);
    }
    // A full batch means more may be due now.
    if (claimed.length === free) this.again = true;
  }

  private idleDelayMs(): number {
    if (this.nextDueAt === Infinity) return this.pollIntervalMs;
    return Math.min(this.pollIntervalMs, Math.max(0, this.nextDueAt - this.now()));
  }

  private async attempt(delivery: ClaimedWebhookDelivery): Promise<void> {
    const { queue, metrics, log } = this.options;
    const context = { tenant: delivery.tenant, endpoint: originOf(delivery.url), webhookId: delivery.id, attempt: delivery.attempt };
    try {
      if (!this.running) {
        // Claimed while stopping: hand it back untried.
        await queue.reschedule(delivery.id, delivery.lease, this.now());
        return;
      }
      const endpoint = this.options.endpoint(delivery.tenant, delivery.url);
      if (!endpoint) {
        metrics.deliveries.inc({ outcome: 'unconfigured' });
        log.info(context, 'webhook dropped: the endpoint is no longer in the tenants file');
        await queue.ack(delivery.id, delivery.lease);
        return;
      }
      const outcome = await this.options.send(
        { id: delivery.id, url: delivery.url, secret: endpoint.secret, payload: delivery.payload, sentAt: new Date(this.now()) },
        this.abort.signal,
      );
      if (outcome.kind === 'delivered') {
        metrics.deliveries.inc({ outcome: 'delivered' });
        log.debug({ ...context, status: outcome.status }, 'webhook delivered');
        // False means our lease ran out mid-send and another replica took the next attempt:
        // the receiver gets it twice (at-least-once) and deduplicates on webhook-id.
        await queue.ack(delivery.id, delivery.lease);
        return;
      }
      if (outcome.kind === 'refused') {
        metrics.deliveries.inc({ outcome: 'refused' });
        log.warn({ ...context, detail: outcome.detail }, 'webhook refused by the address rules (set BERTH_WEBHOOK_ALLOW_PRIVATE=1 only for tests and development)');
        await queue.ack(delivery.id, delivery.lease);
        return;
      }
      if (!this.running) {
        // Aborted by stop(): due again at once, for whichever replica looks first.
        metrics.deliveries.inc({ outcome: 'retried' });
        await queue.reschedule(delivery.id, delivery.lease, this.now());
        return;
      }
      const delayMs = retryDelayMs(this.options.retry, delivery.attempt, this.random);
      if (delayMs === null) {
        metrics.deliveries.inc({ outcome: 'exhausted' });
        log.warn({ ...context, reason: outcome.reason, detail: outcome.detail }, 'webhook dropped after its last attempt');
        await queue.ack(delivery.id, delivery.lease);
        return;
      }
      metrics.deliveries.inc({ outcome: 'retried' });
      log.info({ ...context, reason: outcome.reason, detail: outcome.detail, retryInMs: delayMs }, 'webhook attempt failed; will retry');
      const dueAt = this.now() + delayMs;
      if (await queue.reschedule(delivery.id, delivery.lease, dueAt)) this.nextDueAt = Math.min(this.nextDueAt, dueAt);
    } catch (error) {
      // The store failed on ack or reschedule: the lease runs out and the delivery comes back.
      log.warn({ ...context, err: { message: (error as Error).message } }, 'webhook queue update failed; the delivery returns when its lease ends');
    }
  }
}

/** Scheme, host and port only: a path or query may carry a receiver's own token. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid';
  }
}
