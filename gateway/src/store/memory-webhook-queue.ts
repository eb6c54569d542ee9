// MemoryWebhookQueue: the embedded default WebhookQueue (webhooks/webhook-queue.ts), for one
// gateway process. Every method completes synchronously inside its promise, so each is atomic
// with respect to the others (the event loop is the lock). A restart of this process loses what
// it holds: only RedisWebhookQueue keeps deliveries across restarts.

import { randomUUID } from 'node:crypto';
import type { ClaimedWebhookDelivery, NewWebhookDelivery, WebhookQueue } from './webhook-queue.js';

interface Held {
  delivery: NewWebhookDelivery;
  dueAt: number;
  attempts: number;
  lease: string | null;
  /** Insertion order, so deliveries due at the same ms are claimed in the order they came. */
  seq: number;
}

export class MemoryWebhookQueue implements WebhookQueue {
  private readonly held = new Map<string, Held>();
  private seq = 0;

  async enqueue(delivery: NewWebhookDelivery, dueAt: number): Promise<void> {
    if (this.held.has(delivery.id)) return;
    this.held.set(delivery.id, { delivery: { ...delivery }, dueAt, attempts: 0, lease: null, seq: this.seq++ });
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
    const due = [...this.held.values()]
      .filter((h) => h.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq)
      .slice(0, Math.max(0, limit));
    return due.map((h) => {
      h.attempts += 1;
      h.lease = randomUUID();
      h.dueAt = now + leaseMs;
      return { ...h.delivery, attempt: h.attempts, lease: h.lease };
    });
  }

  async ack(id: string, lease: string): Promise<boolean> {
    const held = this.held.get(id);
    if (!held || held.lease !== lease) return false;
    this.held.delete(id);
    return true;
  }

  async reschedule(id: string, lease: string, dueAt: number): Promise<boolean> {
    const held = this.held.get(id);
    if (!held || held.lease !== lease) return false;
    held.lease = null;
    held.dueAt = dueAt;
    return true;
  }

  async size(): Promise<number> {
    return this.held.size;
  }

  async close(): Promise<void> {}
}
