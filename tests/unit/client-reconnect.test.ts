// @berth/client's reconnect loop (client/src/event-stream.ts) against a real node:http server on
// loopback that plays each connection from a script: the cases a whole stack cannot produce on
// demand. A cut resumes with Last-Event-ID and honours `retry:`; 204 stops; a draining frame
// reconnects without reaching the caller; 503 with Retry-After is retried, 403 is not; retries
// are bounded; an abort during the backoff ends the stream; a silent connection is resumed after
// idleTimeoutMs; a POST that fails before its first frame is never repeated.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BerthApiError, BerthClient, DEFAULT_RECONNECT, reconnectDelayMs, type ReconnectInfo } from '@berth/client';

type Step = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let server: http.Server;
let url: string;
let script: Step[] = [];
const seen: Array<{ method: string; path: string; lastEventId: string | undefined }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method!, path: req.url!, lastEventId: req.headers['last-event-id'] as string | undefined });
    const step = script.shift();
    if (!step) {
      res.writeHead(500).end('unscripted request');
      return;
    }
    step(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  // A mock that fails on leftovers: every scripted connection was used.
  expect(script).toHaveLength(0);
  script = [];
  seen.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const frame = (id: string, event: string, data: unknown): string => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const turn = frame('1:0', 'turn', { sessionId: 's', turn: 1 });
const message = frame('1:1', 'message', { type: 'assistant' });
const done = frame('1:2', 'done', { sessionId: 's', turn: 1, stopReason: 'end_turn' });

/** Answers 200 text/event-stream, writes `text`, then ends, or with `cut` destroys the socket. */
function sse(text: string, end: 'end' | 'cut' | 'hold' = 'end'): Step {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(text, () => {
      if (end === 'end') res.end();
      if (end === 'cut') res.socket?.destroy();
    });
  };
}

function problem(status: number, code: string, headers: Record<string, string> = {}): Step {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
    res.end(JSON.stringify({ type: `https://berth.dev/problems/${code}`, title: code, status, code, detail: `scripted ${code}` }));
  };
}

const client = (): BerthClient => new BerthClient({ baseUrl: url, token: 't', stream: { reconnect: { initialDelayMs: 5, maxDelayMs: 200, maxRetries: 3 } } });

describe('reconnects', () => {
  test('a cut mid-turn resumes after the last id with Last-Event-ID, honouring retry:', async () => {
    script = [sse(`retry: 20\n\n${turn}${message}`, 'cut'), sse(done)];
    const reconnects: ReconnectInfo[] = [];
    const events = await client().events('s', { onReconnect: (info) => reconnects.push(info) }).toArray();
    expect(events.map((e) => e.id)).toEqual(['1:0', '1:1', '1:2']);
    expect(seen.map((r) => r.lastEventId)).toEqual([undefined, '1:1']);
    expect(reconnects).toHaveLength(1);
    // The server's retry: (20 ms) is the base, jittered to half..all of it.
    expect(reconnects[0]!.delayMs).toBeGreaterThanOrEqual(10);
    expect(reconnects[0]!.delayMs).toBeLessThanOrEqual(20);
  });

  test('a send whose connection is cut after its first frame resumes on GET /events', async () => {
    script = [sse(turn, 'cut'), sse(`${message}${done}`)];
    const events = await client().sendMessage('s', 'hi').toArray();
    expect(events.map((e) => e.event)).toEqual(['turn', 'message', 'done']);
    expect(seen.map((r) => `${r.method} ${r.path} ${r.lastEventId}`)).toEqual(['POST /sessions/s/messages undefined', 'GET /sessions/s/events 1:0']);
  });

  test('204 ends the stream empty; a draining frame reconnects and never reaches the caller', async () => {
    script = [(_req, res) => res.writeHead(204).end()];
    expect(await client().resume('s', '1:2').toArray()).toEqual([]);
    script = [sse(`${turn}${frame('1:0', 'error', { message: 'the gateway is shutting down', code: 'draining' })}`), sse(`${message}${done}`)];
    const events = await client().events('s').toArray();
    expect(events.map((e) => e.event)).toEqual(['turn', 'message', 'done']);
    expect(seen.at(-1)!.lastEventId).toBe('1:0');
  });

  test('a replay_gap error ends even a follow tail (reconnecting would only meet it again)', async () => {
    script = [sse(frame('1:5', 'error', { message: 'gone', code: 'replay_gap' }), 'hold')];
    const events = await client().events('s', { follow: true, lastEventId: '1:4' }).toArray();
    expect(events).toEqual([{ event: 'error', id: '1:5', data: { message: 'gone', code: 'replay_gap' } }]);
  });

  test('503 with Retry-After is waited out and retried; 403 is thrown at once with its problem', async () => {
    script = [problem(503, 'store_unavailable', { 'retry-after': '0' }), sse(`${turn}${done}`)];
    expect((await client().events('s').toArray()).map((e) => e.event)).toEqual(['turn', 'done']);
    script = [problem(403, 'forbidden')];
    const error = await client().events('s').toArray().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BerthApiError);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', detail: 'scripted forbidden' });
  });

  test('a Retry-After longer than maxDelayMs is not waited for: the error is thrown with retryAfterS', async () => {
    script = [problem(429, 'rate_limited', { 'retry-after': '3600' })];
    await expect(client().events('s').toArray()).rejects.toMatchObject({ status: 429, code: 'rate_limited', retryAfterS: 3600 });
  });

  test('consecutive failures are bounded: maxRetries reconnects, then the last error', async () => {
    const cut: Step = (req) => req.socket.destroy();
    script = [cut, cut, cut, cut];
    const reconnects: ReconnectInfo[] = [];
    const error = await client().events('s', { onReconnect: (info) => reconnects.push(info) }).toArray().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'network_error' });
    expect((error as Error).cause).toBeDefined();
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2, 3]);
    // Exponential: each backoff's upper bound doubles (5, 10, 20 ms before jitter).
    reconnects.forEach((r, i) => expect(r.delayMs).toBeLessThanOrEqual(5 * 2 ** i));
  });

  test('an abort during the backoff ends the stream with the abort reason and no further request', async () => {
    script = [sse(turn, 'cut')];
    const abort = new AbortController();
    const stream = client().events('s', { signal: abort.signal, onReconnect: () => abort.abort() });
    const received: string[] = [];
    const error = await (async () => {
      for await (const event of stream) received.push(event.id);
    })().catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(received).toEqual(['1:0']);
    expect(seen).toHaveLength(1);
  });

  test('a connection silent past idleTimeoutMs is resumed', async () => {
    // Routed on Last-Event-ID, so a busy machine that idles out even before the first frame only adds a reconnect.
    const route: Step = (req, res) => {
      if (req.headers['last-event-id'] === '1:0') return sse(done)(req, res);
      script.unshift(route);
      sse(turn, 'hold')(req, res);
    };
    script = [route];
    const reconnects: ReconnectInfo[] = [];
    const events = await client().events('s', { idleTimeoutMs: 300, onReconnect: (info) => reconnects.push(info) }).toArray();
    expect(events.map((e) => e.event)).toEqual(['turn', 'done']);
    expect(reconnects[0]!.error).toMatchObject({ code: 'stream_cut' });
    expect(seen.at(-1)!.lastEventId).toBe('1:0');
  });

  test('a POST cut before its first frame is not repeated (the turn may have started)', async () => {
    script = [(req) => req.socket.destroy()];
    await expect(client().sendMessage('s', 'hi').toArray()).rejects.toMatchObject({ code: 'network_error' });
    expect(seen).toHaveLength(1);
  });

  test('an answer that is not an event stream, or a frame that is not JSON, is a typed error', async () => {
    script = [(_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>')];
    await expect(client().events('s').toArray()).rejects.toMatchObject({ code: 'unexpected_response' });
    script = [sse('id: 1:0\nevent: turn\ndata: not json\n\n')];
    await expect(client().events('s').toArray()).rejects.toMatchObject({ code: 'invalid_stream' });
  });
});

describe('the backoff policy', () => {
  const policy = { ...DEFAULT_RECONNECT, initialDelayMs: 100, maxDelayMs: 1000, maxRetries: 4 };
  const cut = new BerthApiError({ status: 0, code: 'stream_cut', title: 'cut' });
  const limited = (retryAfterS: number) => new BerthApiError({ status: 429, code: 'rate_limited', title: 'limited', retryAfterS });

  test('doubles per failure from retry: or initialDelayMs, capped, jittered to half..all, and gives up past maxRetries', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4].map((n) => reconnectDelayMs(policy, n, undefined, cut, top))).toEqual([100, 200, 400, 800]);
    expect(reconnectDelayMs(policy, 4, 300, cut, top)).toBe(1000);
    expect(reconnectDelayMs(policy, 1, undefined, cut, () => 0)).toBe(50);
    expect(reconnectDelayMs(policy, 5, undefined, cut, top)).toBeUndefined();
  });

  test('a Retry-After is waited out when it fits under maxDelayMs, else the stream gives up', () => {
    expect(reconnectDelayMs(policy, 1, undefined, limited(0), () => 0)).toBe(50);
    expect(reconnectDelayMs({ ...policy, maxDelayMs: 5000 }, 1, undefined, limited(2), () => 0)).toBe(2000);
    expect(reconnectDelayMs(policy, 1, undefined, limited(2), () => 0)).toBeUndefined();
  });
});
