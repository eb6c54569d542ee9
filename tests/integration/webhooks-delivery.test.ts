// Webhook delivery end to end over the in-process queue, against a real loopback receiver that
// verifies every request with the `standardwebhooks` package: signed delivery, retry after a 500,
// give-up after the last attempt, a receiver that never answers (timeout), a receiver that
// streams an endless body (read bound), an endpoint removed from the tenants file, and the
// address rules: loopback, metadata and private targets are refused without
// BERTH_WEBHOOK_ALLOW_PRIVATE, whether written as literals or reached through a name.

import { afterEach, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { MemoryWebhookQueue } from '@berth/gateway/store';
import { SECRET, sessionEvent, startReplica, tenantWith, type TestReplica } from '../fixtures/webhooks.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fixtures/webhook-receiver.js';
import { waitFor } from '../fixtures/wait-for.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function receiver(respond?: Parameters<typeof startWebhookReceiver>[0]): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(respond);
  cleanups.push(() => r.close());
  return r;
}

function replica(options: Parameters<typeof startReplica>[0]): TestReplica {
  const running = startReplica(options);
  cleanups.push(() => running.stop());
  return running;
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  await waitFor(what, check, { timeoutMs: 15_000 });
}

describe('webhook delivery', () => {
  test('a turn end is POSTed once, signed: standardwebhooks verifies it and the payload carries the event', async () => {
    const r = await receiver();
    const queue = new MemoryWebhookQueue();
    const node = replica({ queue, tenants: [tenantWith('alice', [{ url: `${r.url}/hooks?src=berth`, secret: SECRET }])] });
    const event = sessionEvent({ sessionId: 'sess-1', turn: 3, stopReason: 'max_turns', at: Date.UTC(2026, 0, 2, 3, 4, 5) });
    node.sink.publish(event);
    const [request] = await r.waitFor(1);
    expect(r.verify(request!, SECRET)).toEqual({
      type: 'session.turn_ended',
      timestamp: '2026-01-02T03:04:05.000Z',
      data: { tenant: 'alice', sessionId: 'sess-1', status: 'idle', turn: 3, stopReason: 'max_turns' },
    });
    expect(request!.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(request!.headers['content-type']).toBe('application/json');
    // A wrong secret does not verify: the signature is real, not decorative.
    expect(() => r.verify(request!, `whsec_${Buffer.alloc(32, 8).toString('base64')}`)).toThrow();
    await until('the queue to empty', async () => (await queue.size()) === 0);
    expect(await node.deliveries('delivered')).toBe(1);
    expect(r.requests.length).toBe(1);
  });

  test('events filter per endpoint, other tenants get nothing, every matching endpoint gets its own delivery', async () => {
    const r = await receiver();
    const queue = new MemoryWebhookQueue();
    const node = replica({
      queue,
      tenants: [
        tenantWith('alice', [
          { url: `${r.url}/all`, secret: SECRET },
          { url: `${r.url}/status-only`, secret: SECRET, events: ['session.status_changed'] },
        ]),
        tenantWith('bob', []),
      ],
    });
    node.sink.publish(sessionEvent({ tenant: 'bob' }));
    node.sink.publish(sessionEvent({ type: 'session.turn_ended' }));
    node.sink.publish(sessionEvent({ type: 'session.status_changed', status: 'running', stopReason: null }));
    await r.waitFor(3);
    await until('the queue to empty', async () => (await queue.size()) === 0);
    const seen = r.requests.map((q) => (JSON.parse(q.body) as { type: string }).type);
    expect(seen.sort()).toEqual(['session.status_changed', 'session.status_changed', 'session.turn_ended']);
    expect(new Set(r.requests.map((q) => q.headers['webhook-id'])).size).toBe(3);
    expect(r.requests.every((q) => (JSON.parse(q.body) as { data: { tenant: string } }).data.tenant === 'alice')).toBe(true);
  });

  test('a receiver 500 is retried with the same webhook-id and body, then the 200 ends it', async () => {
    const r = await receiver((_, index) => (index === 0 ? 500 : 200));
    const queue = new MemoryWebhookQueue();
    const node = replica({ queue, tenants: [tenantWith('alice', [{ url: r.url, secret: SECRET }])] });
    node.sink.publish(sessionEvent());
    const [first, second] = await r.waitFor(2);
    expect(first!.status).toBe(500);
    expect(second!.status).toBe(200);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.body).toBe(first!.body);
    expect(r.verify(second!, SECRET)).toEqual(JSON.parse(first!.body));
    await until('the queue to empty', async () => (await queue.size()) === 0);
    expect([await node.deliveries('retried'), await node.deliveries('delivered')]).toEqual([1, 1]);
  });

  test('a redirect is not followed (it could point past the address rules): the same url is retried', async () => {
    const r = await receiver((request, index, res) => {
      if (index > 0) return 200;
      request.status = 307;
      res.writeHead(307, { location: '/elsewhere' }).end();
      return 'custom';
    });
    const queue = new MemoryWebhookQueue();
    const node = replica({ queue, tenants: [tenantWith('alice', [{ url: `${r.url}/hook`, secret: SECRET }])] });
    node.sink.publish(sessionEvent());
    await r.waitFor(2);
    await until('the delivery to finish', async () => (await node.deliveries('delivered')) === 1);
    expect(r.requests.map((q) => q.path)).toEqual(['/hook', '/hook']);
    expect(await node.deliveries('retried')).toBe(1);
  });

  test('a receiver that always fails gets maxAttempts attempts, then the delivery is dropped and counted', async () => {
    const r = await receiver(() => 503);
    const queue = new MemoryWebhookQueue();
    const node = replica({ queue, tenants: [tenantWith('alice', [{ url: r.url, secret: SECRET }])], settings: { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } } });
    node.sink.publish(sessionEvent());
    await until('the delivery to be dropped', async () => (await node.deliveries('exhausted')) === 1);
    expect(await queue.size()).toBe(0);
    expect(r.requests.length).toBe(3);
    expect(await node.deliveries('retried')).toBe(2);
  });

  test('a receiver that never answers is cut at the timeout and retried', async () => {
    const r = await receiver((_, index) => (index === 0 ? 'hold' : 204));
    const queue = new MemoryWebhookQueue();
    const node = replica({ queue, tenants: [tenantWith('alice', [{ url: r.url, secret: SECRET }])], settings: { timeoutMs: 300 } });
    node.sink.publish(sessionEvent());
    await r.waitFor(2);
    await until('the delivery to finish', async () => (await node.deliveries('delivered')) === 1);
    expect(await node.deliveries('retried')).toBe(1);
  });

  test('an endless response body is not read past a small bound: the socket is dropped and the 200 counts', async () => {
    let receiverGaveUp!: () => void;
    const cut = new Promise<void>((resolve) => (receiverGaveUp = resolve));
    let bytesWritten = 0;
    const r = await receiver((_, __, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = (): void => {
        // Bounded: 64 MiB is far past any read bound; the test fails if the gateway reads it all.
        while (!res.destroyed && bytesWritten < 64 * 1024 * 1024) {
          bytesWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => receiverGaveUp());
      pump();
      return 'custom';
    });
    const queue = new MemoryWebhookQueue();
    const node = replica({ queue, tenants: [tenantWith('alice', [{ url: r.url, secret: SECRET }])] });
    node.sink.publish(sessionEvent());
    await cut;
    await until('the delivery to count', async () => (await node.deliveries('delivered')) === 1);
    expect(bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  test('the signing secret never reaches a log line, at debug level, through retry, refusal and delivery', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const r = await receiver((_, index) => (index === 0 ? 500 : 200));
    const strict = replica({
      queue: new MemoryWebhookQueue(),
      log,
      settings: { allowPrivate: false },
      resolver: async () => [{ address: '127.0.0.1', family: 4 }],
      tenants: [tenantWith('alice', [{ url: `http://hooks.example.test:${r.port}/x`, secret: SECRET }])],
    });
    strict.sink.publish(sessionEvent());
    await until('the refusal', async () => (await strict.deliveries('refused')) === 1);
    const open = replica({ queue: new MemoryWebhookQueue(), log, tenants: [tenantWith('alice', [{ url: `${r.url}/y?token=abc`, secret: SECRET }])] });
    open.sink.publish(sessionEvent());
    await until('the delivery', async () => (await open.deliveries('delivered')) === 1);
    await strict.stop();
    await open.stop();
    const text = lines.join('');
    expect(text).toContain('webhook attempt failed; will retry');
    expect(text).toContain('webhook refused by the address rules');
    expect(text).not.toContain(SECRET.slice('whsec_'.length));
    expect(text).not.toContain('whsec_');
    // Only the origin of an endpoint is logged: a path or query may hold the receiver's own token.
    expect(text).not.toContain('token=abc');
  });

  test('an endpoint removed from the tenants file is dropped as unconfigured, never sent', async () => {
    const r = await receiver(() => 500);
    const queue = new MemoryWebhookQueue();
    const node = replica({ queue, tenants: [tenantWith('alice', [{ url: r.url, secret: SECRET }])], settings: { retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 200 } } });
    node.sink.publish(sessionEvent());
    await r.waitFor(1);
    node.directory.tenants.set('alice', tenantWith('alice', []));
    await until('the delivery to be dropped', async () => (await node.deliveries('unconfigured')) === 1);
    expect(r.requests.length).toBe(1);
    expect(await queue.size()).toBe(0);
  });
});

describe('webhook address rules (BERTH_WEBHOOK_ALLOW_PRIVATE unset)', () => {
  test('loopback, metadata and private targets are refused, as literals and through a name; nothing reaches the receiver', async () => {
    const r = await receiver();
    const queue = new MemoryWebhookQueue();
    const asked: string[] = [];
    const node = replica({
      queue,
      settings: { allowPrivate: false },
      // A DNS name that resolves to loopback, and one that answers a public and a private address.
      resolver: async (name) => {
        asked.push(name);
        if (name === 'hooks.example.test') return [{ address: '127.0.0.1', family: 4 }];
        if (name === 'mixed.example.test') return [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }];
        throw new Error('NXDOMAIN');
      },
      tenants: [tenantWith('alice', [
        { url: `${r.url}/literal`, secret: SECRET },
        { url: `http://[::1]:${r.port}/v6`, secret: SECRET },
        { url: 'http://169.254.169.254/latest/meta-data', secret: SECRET },
        { url: `http://hooks.example.test:${r.port}/named`, secret: SECRET },
        { url: 'https://mixed.example.test/hook', secret: SECRET },
        { url: `http://0x7f.1:${r.port}/odd-spelling`, secret: SECRET },
        { url: `http://[::ffff:7f00:1]:${r.port}/ipv4-mapped`, secret: SECRET },
      ])],
    });
    node.sink.publish(sessionEvent());
    await until('seven refusals', async () => (await node.deliveries('refused')) === 7);
    expect(asked.sort()).toEqual(['hooks.example.test', 'mixed.example.test']);
    expect(await queue.size()).toBe(0);
    expect(r.requests).toEqual([]);
    expect(await node.deliveries('delivered')).toBe(0);
  });

  test('the same loopback receiver is reached once the operator allows private addresses', async () => {
    const r = await receiver();
    const queue = new MemoryWebhookQueue();
    const node = replica({
      queue,
      settings: { allowPrivate: true },
      resolver: async () => [{ address: '127.0.0.1', family: 4 }],
      tenants: [tenantWith('alice', [{ url: `http://hooks.example.test:${r.port}/named`, secret: SECRET }])],
    });
    node.sink.publish(sessionEvent());
    const [request] = await r.waitFor(1);
    // Dialled at the vetted address, while the Host header keeps the name.
    expect(request!.headers.host).toBe(`hooks.example.test:${r.port}`);
    expect(r.verify(request!, SECRET)).toMatchObject({ type: 'session.turn_ended' });
  });
});
