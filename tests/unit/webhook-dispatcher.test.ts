// The dispatcher's loop without sockets: while no tenant has an endpoint it makes no store calls
// (a deployment without webhooks pays nothing), and it starts claiming as soon as one appears;
// a stop hands a claimed-but-unsent delivery back due at once.

import { expect, test } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { MemoryWebhookQueue } from '@berth/gateway/store';
import { WebhookDispatcher, createWebhookMetrics, type SendOutcome, type WebhookQueue } from '@berth/gateway/webhooks';
import { waitFor } from '../fixtures/wait-for.js';

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;

function countingQueue(inner: WebhookQueue): WebhookQueue & { claims: number } {
  const queue = {
    claims: 0,
    enqueue: inner.enqueue.bind(inner),
    claim: (now: number, limit: number, leaseMs: number) => {
      queue.claims++;
      return inner.claim(now, limit, leaseMs);
    },
    ack: inner.ack.bind(inner),
    reschedule: inner.reschedule.bind(inner),
    size: inner.size.bind(inner),
    close: inner.close.bind(inner),
  };
  return queue;
}

function dispatcher(queue: WebhookQueue, active: () => boolean, send: (signal: AbortSignal) => Promise<SendOutcome>): WebhookDispatcher {
  return new WebhookDispatcher({
    queue,
    endpoint: () => ({ url: 'https://hooks.example/x', secret: SECRET }),
    send: (_message, signal) => send(signal),
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    leaseMs: 60_000,
    metrics: createWebhookMetrics(new Registry()),
    log: pino({ level: 'silent' }),
    pollIntervalMs: 5,
    active,
  });
}

test('no store calls while no tenant has an endpoint; claims start once one does', async () => {
  const queue = countingQueue(new MemoryWebhookQueue());
  await queue.enqueue({ id: 'd1', tenant: 'alice', url: 'https://hooks.example/x', payload: '{}', createdAt: 0 }, 0);
  let consulted = 0;
  let active = false;
  let sent = 0;
  const loop = dispatcher(queue, () => (consulted++, active), async () => (sent++, { kind: 'delivered', status: 200 }));
  loop.start();
  try {
    await waitFor('the loop to look at the tenants 5 times', () => consulted >= 5);
    expect(queue.claims).toBe(0);
    active = true;
    await waitFor('the delivery to be sent', async () => (await queue.size()) === 0);
    expect(sent).toBe(1);
    expect(queue.claims).toBeGreaterThan(0);
  } finally {
    await loop.stop();
  }
});

test('stop aborts an attempt in flight and hands the delivery back, due at once, as the next attempt', async () => {
  const queue = new MemoryWebhookQueue();
  await queue.enqueue({ id: 'd1', tenant: 'alice', url: 'https://hooks.example/x', payload: '{}', createdAt: 0 }, 0);
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  // A receiver that never answers: only the abort ends the attempt, as in the real sender.
  const loop = dispatcher(queue, () => true, (signal) => new Promise<SendOutcome>((resolve) => {
    started();
    signal.addEventListener('abort', () => resolve({ kind: 'failed', reason: 'network', detail: 'aborted' }));
  }));
  loop.start();
  await inFlight;
  await loop.stop();
  // Without the hand-back the 60 s lease would hide it; it is due now, as attempt 2.
  const [back] = await queue.claim(Date.now(), 10, 1000);
  expect(back).toMatchObject({ id: 'd1', attempt: 2 });
});
