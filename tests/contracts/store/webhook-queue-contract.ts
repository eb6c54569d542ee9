// The WebhookQueue contract (gateway/src/webhooks/webhook-queue.ts), written once and run against
// MemoryWebhookQueue (tests/unit/webhook-queue.test.ts) and RedisWebhookQueue
// (tests/integration/webhook-queue-redis.test.ts). It pins every method, the lease that keeps two
// claimers off one attempt, and the races: concurrent claims from several queue handles (two
// replicas) never share a delivery, and a holder whose lease ran out can neither ack nor
// reschedule what the next holder took. Time is the suite's own `now` argument: the queue takes
// it as a parameter, so nothing here sleeps.

import { afterEach, describe, expect, test } from 'vitest';
import type { NewWebhookDelivery, WebhookQueue } from '@berth/gateway/webhooks';

export interface WebhookQueueContractOptions {
  name: string;
  /**
   * Handles on one fresh, empty queue. With `sameStore`, a handle on the queue the previous call
   * returned (a second replica on the same store); the memory queue returns the same instance.
   */
  newQueue(options: { sameStore?: WebhookQueue }): Promise<WebhookQueue>;
  /** Test name → written reason for skipping it on this implementation. */
  skip?: Record<string, string>;
}

const T0 = 1_700_000_000_000;
const LEASE_MS = 30_000;

export function delivery(id: string, over: Partial<NewWebhookDelivery> = {}): NewWebhookDelivery {
  return { id, tenant: 'alice', url: 'https://hooks.example/berth', payload: JSON.stringify({ type: 'session.turn_ended', id }), createdAt: T0, ...over };
}

export function runWebhookQueueContract(options: WebhookQueueContractOptions): void {
  const open: WebhookQueue[] = [];
  const newQueue = async (sameStore?: WebhookQueue): Promise<WebhookQueue> => {
    const queue = await options.newQueue(sameStore ? { sameStore } : {});
    if (!open.includes(queue)) open.push(queue);
    return queue;
  };
  const it = (name: string, fn: () => Promise<void>): void => {
    const reason = options.skip?.[name];
    if (reason) test.skip(`${name} (skipped: ${reason})`, fn);
    else test(name, fn);
  };

  describe(`WebhookQueue contract: ${options.name}`, () => {
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    it('claim returns what is due, earliest first, with its fields intact and attempt 1', async () => {
      const q = await newQueue();
      await q.enqueue(delivery('b', { tenant: 'bob', url: 'http://127.0.0.1:9/x', createdAt: T0 + 5 }), T0 + 20);
      await q.enqueue(delivery('a'), T0 + 10);
      await q.enqueue(delivery('later'), T0 + 1000);
      const claimed = await q.claim(T0 + 100, 10, LEASE_MS);
      expect(claimed.map((d) => d.id)).toEqual(['a', 'b']);
      const { lease, ...rest } = claimed[1]!;
      expect(rest).toEqual({ ...delivery('b', { tenant: 'bob', url: 'http://127.0.0.1:9/x', createdAt: T0 + 5 }), attempt: 1 });
      expect(typeof lease).toBe('string');
      expect(claimed[0]!.lease).not.toBe(lease);
      expect(await q.size()).toBe(3);
    });

    it('nothing is claimed before it is due, and limit bounds a claim', async () => {
      const q = await newQueue();
      for (const id of ['1', '2', '3']) await q.enqueue(delivery(id), T0);
      expect(await q.claim(T0 - 1, 10, LEASE_MS)).toEqual([]);
      expect((await q.claim(T0, 2, LEASE_MS)).length).toBe(2);
      expect((await q.claim(T0, 2, LEASE_MS)).map((d) => d.id)).toEqual(['3']);
      expect(await q.claim(T0, 0, LEASE_MS)).toEqual([]);
    });

    it('enqueue is idempotent on id', async () => {
      const q = await newQueue();
      await q.enqueue(delivery('x', { payload: 'first' }), T0);
      await q.enqueue(delivery('x', { payload: 'second' }), T0 - 50);
      expect(await q.size()).toBe(1);
      const claimed = await q.claim(T0, 10, LEASE_MS);
      expect(claimed.map((d) => [d.id, d.payload])).toEqual([['x', 'first']]);
    });

    it('a claimed delivery is hidden for its lease, then due again as the next attempt', async () => {
      const q = await newQueue();
      await q.enqueue(delivery('x'), T0);
      const [first] = await q.claim(T0, 10, LEASE_MS);
      expect(first?.attempt).toBe(1);
      expect(await q.claim(T0 + LEASE_MS - 1, 10, LEASE_MS)).toEqual([]);
      const [second] = await q.claim(T0 + LEASE_MS, 10, LEASE_MS);
      expect(second?.id).toBe('x');
      expect(second?.attempt).toBe(2);
      expect(second?.lease).not.toBe(first?.lease);
    });

    it('ack removes a held delivery; a second ack and an unknown id are false', async () => {
      const q = await newQueue();
      await q.enqueue(delivery('x'), T0);
      const [held] = await q.claim(T0, 10, LEASE_MS);
      expect(await q.ack('x', held!.lease)).toBe(true);
      expect(await q.ack('x', held!.lease)).toBe(false);
      expect(await q.ack('nope', held!.lease)).toBe(false);
      expect(await q.size()).toBe(0);
      expect(await q.claim(T0 + 10 * LEASE_MS, 10, LEASE_MS)).toEqual([]);
    });

    it('reschedule makes a held delivery due at the given time, keeping its attempt count', async () => {
      const q = await newQueue();
      await q.enqueue(delivery('x'), T0);
      const [held] = await q.claim(T0, 10, LEASE_MS);
      expect(await q.reschedule('x', held!.lease, T0 + 500)).toBe(true);
      expect(await q.reschedule('x', held!.lease, T0 + 1)).toBe(false); // the lease is spent
      expect(await q.claim(T0 + 499, 10, LEASE_MS)).toEqual([]);
      const [again] = await q.claim(T0 + 500, 10, LEASE_MS);
      expect(again?.attempt).toBe(2);
      expect(await q.reschedule('nope', again!.lease, T0)).toBe(false);
    });

    it('a holder whose lease ran out can neither ack nor reschedule what the next holder took', async () => {
      const q = await newQueue();
      await q.enqueue(delivery('x'), T0);
      const [stale] = await q.claim(T0, 10, LEASE_MS);
      const [current] = await q.claim(T0 + LEASE_MS, 10, LEASE_MS);
      expect(await q.ack('x', stale!.lease)).toBe(false);
      expect(await q.reschedule('x', stale!.lease, T0)).toBe(false);
      expect(await q.size()).toBe(1);
      // The current holder's lease still hides it: the stale reschedule did not make it due.
      expect(await q.claim(T0 + LEASE_MS + 1, 10, LEASE_MS)).toEqual([]);
      expect(await q.ack('x', current!.lease)).toBe(true);
    });

    it('a second handle on the same store sees the same deliveries (a second replica)', async () => {
      const a = await newQueue();
      const b = await newQueue(a);
      await a.enqueue(delivery('x'), T0);
      expect(await b.size()).toBe(1);
      const [held] = await b.claim(T0, 10, LEASE_MS);
      expect(held?.id).toBe('x');
      expect(await a.claim(T0, 10, LEASE_MS)).toEqual([]);
      expect(await a.ack('x', held!.lease)).toBe(true);
      expect(await b.size()).toBe(0);
    });

    it('race: concurrent claims from two replicas never share a delivery or an attempt', async () => {
      const a = await newQueue();
      const b = await newQueue(a);
      const ids = Array.from({ length: 40 }, (_, i) => `d${i}`);
      await Promise.all(ids.map((id) => a.enqueue(delivery(id), T0)));
      const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(T0, 3, LEASE_MS)));
      const taken = claims.flat().map((d) => d.id);
      expect(taken.length).toBe(ids.length);
      expect(new Set(taken).size).toBe(ids.length);
      expect(claims.flat().every((d) => d.attempt === 1)).toBe(true);
      // After the leases run out, racing claimers again split them: each id once, as attempt 2.
      const retries = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(T0 + LEASE_MS, 3, LEASE_MS)));
      expect(retries.flat().map((d) => d.id).sort()).toEqual([...ids].sort());
      expect(retries.flat().every((d) => d.attempt === 2)).toBe(true);
    });

    it('race: of two acks with the same lease exactly one wins', async () => {
      const a = await newQueue();
      const b = await newQueue(a);
      await a.enqueue(delivery('x'), T0);
      const [held] = await a.claim(T0, 1, LEASE_MS);
      const results = await Promise.all([a.ack('x', held!.lease), b.ack('x', held!.lease), b.reschedule('x', held!.lease, T0)]);
      expect(results.filter(Boolean).length).toBe(1);
    });
  });
}
