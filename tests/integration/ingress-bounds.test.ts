// The ingress bounds every connection (issue 14): a client that trickles its head or its body is
// cut with 408, a header flood gets 431, both as problem+json written by the server's
// 'clientError' handler (express never sees these requests); PUT on a session is 405 with Allow;
// a tenant past its open-stream cap gets 429. Raw sockets, because fetch cannot send half a
// request. The limits are set small here so the probes end quickly; nothing asserts a duration.

import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type RunningGateway } from '@berth/gateway/testing';
import { directModelAccess } from '@berth/gateway/sessions';
import { createMemoryStore, type Store } from '@berth/gateway';
import { hashToken, parseTenants } from '@berth/gateway/tenants';
import { unusedBackend } from '../fixtures/unused-backend.js';

const TOKEN = 'berth_bounds_alice';
let gateway: RunningGateway;
let capped: RunningGateway;
let store: Store;
let port: number;

function start(limits: Parameters<typeof startGateway>[0]['limits']): Promise<RunningGateway> {
  const directory = parseTenants(`tenants:\n  alice:\n    tokenHashes: ["${hashToken(TOKEN)}"]\n`);
  return startGateway({
    store,
    backend: unusedBackend,
    tenants: () => directory,
    access: directModelAccess('http://127.0.0.1:9'),
    log: pino({ level: 'silent' }),
    limits,
    drainGraceS: 0,
  });
}

beforeAll(async () => {
  store = createMemoryStore();
  gateway = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600, idleSocketTimeoutMs: 5_000 });
  capped = await start({ maxStreamsPerTenant: 0 });
  port = Number(new URL(gateway.url).port);
});

afterAll(async () => {
  await gateway?.close();
  await capped?.close();
  await store?.close();
});

/** Writes `send`, then waits (bounded) until the server closes, and returns everything it said. */
async function rawExchange(send: string, timeoutMs = 10_000): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
  socket.write(send);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not close within ${timeoutMs} ms; it said: ${answer || '(nothing)'}`)), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', () => {});
  });
  return answer;
}

function problemOf(answer: string): { status: number; contentType: string | undefined; body: Record<string, unknown> } {
  const [head, body] = answer.split('\r\n\r\n', 2) as [string, string];
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const contentType = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1];
  return { status, contentType, body: JSON.parse(body) as Record<string, unknown> };
}

describe('ingress connection bounds', () => {
  test('a head that never ends is cut with 408 request_timeout as problem+json', async () => {
    const problem = problemOf(await rawExchange('POST /sessions/slow/messages HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    expect(problem.status).toBe(408);
    expect(problem.contentType).toMatch(/^application\/problem\+json/);
    expect(problem.body).toMatchObject({ code: 'request_timeout', status: 408, type: 'https://berth.dev/problems/request-timeout' });
  });

  test('a body that never arrives in full is cut with 408 request_timeout', async () => {
    const head = `POST /sessions/slow-body/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n`;
    const problem = problemOf(await rawExchange(`${head}{"prompt":"hel`));
    expect(problem.status).toBe(408);
    expect(problem.body).toMatchObject({ code: 'request_timeout' });
  });

  test('a header flood is refused with 431 headers_too_large', async () => {
    const flood = Array.from({ length: 40 }, (_, i) => `X-Flood-${i}: ${'a'.repeat(1000)}\r\n`).join('');
    const problem = problemOf(await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\n${flood}\r\n`));
    expect(problem.status).toBe(431);
    expect(problem.contentType).toMatch(/^application\/problem\+json/);
    expect(problem.body).toMatchObject({ code: 'headers_too_large', status: 431 });
  });

  test('PUT on a session is 405 method_not_allowed with Allow; an unknown path stays 404', async () => {
    const res = await fetch(`${gateway.url}/sessions/abc`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('allow')).toBe('DELETE, GET, HEAD');
    expect(await res.json()).toMatchObject({ code: 'method_not_allowed', status: 405 });
    const missing = await fetch(`${gateway.url}/nothing-here`, { method: 'PUT' });
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
  });

  test("a tenant at its open-stream cap gets 429 before any sandbox is claimed", async () => {
    const res = await fetch(`${capped.url}/sessions/capped/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hi' }),
    });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ code: 'quota_exceeded' });
    expect(await store.sessions.getSession('capped')).toBeNull();
    // Counted like every quota refusal, under its own kind.
    const metrics = await (await fetch(`${capped.url}/metrics`)).text();
    expect(metrics).toMatch(/^berth_gateway_quota_refusals_total\{kind="streams"\} [1-9]/m);
  });
});
