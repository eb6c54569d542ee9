// Webhooks over RedisWebhookQueue, as several gateway replicas run them: two replicas sharing one
// queue never send the same attempt twice, and a delivery queued by a gateway that stops mid-send
// is delivered by the next gateway on the same Redis (a whole stack, config from env and the
// tenants file). The receiver verifies every request with the `standardwebhooks` package.

import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type http from 'node:http';
import { RedisWebhookQueue } from '@berth/gateway/store';
import { SECRET, sessionEvent, startReplica, tenantWith, type TestReplica } from '../fixtures/webhooks.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fixtures/webhook-receiver.js';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTestStack, writeTenantsFile, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let redis: RedisServer;
let prefixes = 0;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  await waitFor(what, check, { timeoutMs: 20_000 });
}

function queueOn(prefix: string): RedisWebhookQueue {
  const queue = new RedisWebhookQueue({ url: redis.url, keyPrefix: prefix });
  cleanups.push(() => queue.close());
  return queue;
}

test('two replicas on one Redis queue, both sending at once, never send one delivery twice', async () => {
  // The receiver holds requests until 12 are open at once, more than one replica's 8 slots, so
  // both replicas are mid-send together; then it answers everything.
  const held: http.ServerResponse[] = [];
  let released = false;
  const r: WebhookReceiver = await startWebhookReceiver((request, _, res) => {
    if (released) return 200;
    held.push(res);
    request.status = 200;
    if (held.length === 12) {
      released = true;
      for (const h of held) h.writeHead(200).end('ok');
    }
    return 'custom';
  });
  cleanups.push(() => r.close());
  const prefix = `replicas${++prefixes}:`;
  const tenants = [tenantWith('alice', [{ url: r.url, secret: SECRET }])];
  const replicas: TestReplica[] = [startReplica({ queue: queueOn(prefix), tenants }), startReplica({ queue: queueOn(prefix), tenants })];
  for (const node of replicas) cleanups.push(() => node.stop());
  const total = 40;
  for (let i = 0; i < total; i++) replicas[i % 2]!.sink.publish(sessionEvent({ sessionId: `s${i}` }));
  await r.waitFor(total);
  await until('both replicas to count every delivery', async () => (await replicas[0]!.deliveries('delivered')) + (await replicas[1]!.deliveries('delivered')) === total);
  const ids = r.requests.map((q) => q.headers['webhook-id']);
  expect(new Set(ids).size).toBe(total);
  expect(r.requests.length).toBe(total);
  expect(await replicas[0]!.deliveries('delivered')).toBeGreaterThan(0);
  expect(await replicas[1]!.deliveries('delivered')).toBeGreaterThan(0);
  expect(new Set(r.requests.map((q) => JSON.stringify(r.verify(q, SECRET)))).size).toBe(total);
  expect(await queueOn(prefix).size()).toBe(0);
});

test('a delivery in flight when the gateway stops is delivered by the next gateway on the same Redis', async () => {
  const r = await startWebhookReceiver((_, index) => (index === 0 ? 'hold' : 200));
  cleanups.push(() => r.close());
  // Both gateways read one tenants file, as replicas of a deployment do.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-webhooks-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeTenantsFile(dir, { alice: `    webhooks: [{ url: "${r.url}/hook", secret: "${SECRET}", events: [session.turn_ended] }]\n` });
  const stackOptions = {
    redisUrl: redis.url,
    poolSize: 0,
    dir,
    env: { BERTH_WEBHOOK_ALLOW_PRIVATE: '1', BERTH_WEBHOOK_RETRY_BASE_MS: '5', BERTH_REDIS_PREFIX: 'restart:' },
  };
  const first: TestStack = await startTestStack(stackOptions);
  let firstStopped = false;
  cleanups.push(async () => {
    if (!firstStopped) await first.stop();
  });
  first.stack.webhooks!.sink.publish(sessionEvent({ sessionId: 'kept-1' }));
  const [attempt1] = await r.waitFor(1);
  await first.stop();
  firstStopped = true;
  // Stopped: the delivery is still in Redis, handed back due now, with nobody running.
  const observer = queueOn('restart:');
  expect(await observer.size()).toBe(1);

  const second = await startTestStack(stackOptions);
  cleanups.push(() => second.stop());
  const [, attempt2] = await r.waitFor(2);
  expect(attempt2!.status).toBe(200);
  expect(attempt2!.headers['webhook-id']).toBe(attempt1!.headers['webhook-id']);
  expect(r.verify(attempt2!, SECRET)).toMatchObject({ type: 'session.turn_ended', data: { tenant: 'alice', sessionId: 'kept-1' } });
  await until('the queue to empty', async () => (await observer.size()) === 0);
});

test('a replica that died mid-send (claimed, never acked): another replica sends it when the lease ends', async () => {
  const r = await startWebhookReceiver();
  cleanups.push(() => r.close());
  const prefix = `crash${++prefixes}:`;
  const tenants = [tenantWith('alice', [{ url: r.url, secret: SECRET }])];
  // The dead replica: it queued the event and claimed it (a short lease), then vanished without
  // sending, acking or handing it back.
  const dead = queueOn(prefix);
  const payload = JSON.stringify({ type: 'session.turn_ended', timestamp: new Date().toISOString(), data: { tenant: 'alice', sessionId: 'orphan' } });
  await dead.enqueue({ id: 'msg_orphan', tenant: 'alice', url: r.url, payload, createdAt: Date.now() }, Date.now());
  expect(await dead.claim(Date.now(), 1, 200)).toHaveLength(1);
  const survivor = startReplica({ queue: queueOn(prefix), tenants });
  cleanups.push(() => survivor.stop());
  const [request] = await r.waitFor(1);
  expect(request!.headers['webhook-id']).toBe('msg_orphan');
  expect(r.verify(request!, SECRET)).toEqual(JSON.parse(payload));
  await until('the queue to empty', async () => (await dead.size()) === 0);
  expect(await survivor.deliveries('delivered')).toBe(1);
});
