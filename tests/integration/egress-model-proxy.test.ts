// The egress gateway's model API reverse proxy against a fake upstream on loopback (a small
// Messages API stand-in defined here: it records what arrives and answers SSE or JSON with a
// known usage). Pins: the real key arrives and the session credential does not; the stream is
// relayed unbuffered; usage metered per tenant and session equals what the upstream reported;
// a retried call after a cut-off stream is metered per response (no double count, no loss);
// over-budget tenants get 429 before the upstream is touched, in the Messages API error shape
// with x-should-retry: false, so the official SDK gives up at once; unknown paths are not forwarded.
import { createServer, request, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMemoryStore, type Store } from '@berth/gateway';
import { createSessionCredentials } from '@berth/gateway/credentials';
import { compileAllowlist } from '@berth/gateway/policy';
import { createEgressServer, type EgressServer } from '@berth/gateway/egress';
import type { TenantEgressPolicy } from '@berth/gateway/egress';
import { waitFor } from '../fixtures/wait-for.js';

const credentials = createSessionCredentials({ keys: [{ kid: 'k1', secret: new Uint8Array(32).fill(5) }] });
const USAGE = { input_tokens: 120, output_tokens: 1, cache_creation_input_tokens: 30, cache_read_input_tokens: 400 };
const FINAL_OUTPUT = 42;

interface Seen { path: string; headers: IncomingHttpHeaders; body: string }
type Mode = 'stream' | 'cut' | 'hold';

function sse(res: ServerResponse, event: string, data: object): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The fake upstream: `mode` decides how the next stream ends. */
function fakeUpstream() {
  const seen: Seen[] = [];
  const state = { mode: 'stream' as Mode, release: () => {}, closed: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const parsed = JSON.parse(body || '{}') as { stream?: boolean };
      if (!parsed.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ id: 'msg_json', type: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 7, output_tokens: 3 } }));
      }
      res.on('close', () => state.closed++);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'x-upstream-hop', 'x-upstream-hop': '1' });
      sse(res, 'message_start', { type: 'message_start', message: { id: 'msg_1', role: 'assistant', content: [], usage: USAGE } });
      sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      const rest = () => {
        sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi' } });
        sse(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
        sse(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: FINAL_OUTPUT } });
        sse(res, 'message_stop', { type: 'message_stop' });
        res.end();
      };
      // Cut: the bytes so far are handed to the kernel (write callback), then the connection dies.
      if (state.mode === 'cut') return void res.write(': cut\n\n', () => res.socket?.destroy());
      if (state.mode === 'hold') state.release = rest;
      else rest();
    });
  });
  return { server, seen, state };
}

interface Answer { status: number; headers: IncomingHttpHeaders; body: string }

function call(port: number, options: { path?: string; headers?: Record<string, string>; body?: object; method?: string; onFirstChunk?: () => void }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/v1/messages?beta=true', agent: false, headers: { 'content-type': 'application/json', ...options.headers } }, (res) => {
      let body = '';
      let first = true;
      res.on('data', (c: Buffer) => {
        body += c.toString();
        if (first) {
          first = false;
          options.onFirstChunk?.();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

describe('egress model reverse proxy', () => {
  const upstream = fakeUpstream();
  const store = createMemoryStore();
  const registry = new Registry();
  let egress: EgressServer;
  let port: number;
  const tokens: Record<string, string> = {};
  const policies: Record<string, TenantEgressPolicy> = {
    alice: { allowlist: compileAllowlist([]) },
    bob: { allowlist: compileAllowlist([]) },
    carol: { allowlist: compileAllowlist([]), tokenBudget: { tokens: 1000, periodS: 3600 } },
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.server.address() as AddressInfo).port;
    egress = createEgressServer({
      credentials,
      store,
      tenants: (name) => policies[name],
      upstreamUrl: `http://127.0.0.1:${upstreamPort}`,
      realKeyFor: (tenant) => (tenant === 'bob' ? 'sk-real-bob' : 'sk-real-global'),
      registry,
      logger: pino({ level: 'silent' }),
      resolver: async () => [],
      publicUrl: 'http://egress.test.internal:8081',
    });
    port = (await egress.listen(0, '127.0.0.1')).port;
    for (const tenant of ['alice', 'bob', 'carol']) {
      const session = `s-${tenant}`;
      await store.sessions.createSession({ id: session, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 0, lastActivityAt: 0, turns: 0 });
      const lock = (await store.bindings.acquireLock(session, 10_000))!;
      await store.bindings.setSandbox(session, { sandboxId: `sbx-${tenant}`, url: 'http://127.0.0.1:1', authToken: 't', profile: 'default', claimedAt: 0 }, lock);
      tokens[tenant] = (await credentials.mint({ tenant, sessionId: session, sandboxId: `sbx-${tenant}` })).token;
    }
  });

  afterAll(async () => {
    await egress?.close();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    upstream.server.closeAllConnections();
  });

  test('streams the upstream SSE back; the real key arrives, the credential does not; usage is metered', async () => {
    const answer = await call(port, {
      headers: { 'x-api-key': tokens.alice!, 'anthropic-version': '2023-06-01', connection: 'x-hop', 'x-hop': 'drop', 'accept-encoding': 'gzip' },
      body: { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream');
    expect(answer.headers['x-upstream-hop']).toBeUndefined();
    expect(answer.body).toContain('event: message_stop');
    const seen = upstream.seen.at(-1)!;
    expect(seen.path).toBe('/v1/messages?beta=true');
    expect(seen.headers['x-api-key']).toBe('sk-real-global');
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.headers['accept-encoding']).toBe('identity');
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(tokens.alice!);
    await waitFor("alice's usage metered", async () => {
      expect((await store.usage.getUsage('alice')).sessions['s-alice']).toEqual({ inputTokens: 120, outputTokens: FINAL_OUTPUT, cacheCreationInputTokens: 30, cacheReadInputTokens: 400 });
      return true;
    }, { retryErrors: true });
  });

  test('Authorization: Bearer works too, and a tenant with its own key gets it upstream', async () => {
    const answer = await call(port, { headers: { authorization: `Bearer ${tokens.bob}` }, body: { stream: false } });
    expect(answer.status).toBe(200);
    expect(upstream.seen.at(-1)!.headers['x-api-key']).toBe('sk-real-bob');
    expect(upstream.seen.at(-1)!.headers.authorization).toBeUndefined();
    await waitFor("bob's usage metered", async () => {
      expect((await store.usage.getUsage('bob')).tenant).toMatchObject({ inputTokens: 7, outputTokens: 3 });
      return true;
    }, { retryErrors: true });
  });

  test('the stream is relayed unbuffered: the first event arrives while the upstream still holds the rest', async () => {
    upstream.state.mode = 'hold';
    let sawFirstBeforeRelease = false;
    const answer = await call(port, {
      headers: { 'x-api-key': tokens.alice! },
      body: { stream: true },
      onFirstChunk: () => {
        sawFirstBeforeRelease = true;
        upstream.state.mode = 'stream';
        upstream.state.release(); // the upstream finishes only after the client saw its first bytes
      },
    });
    expect(sawFirstBeforeRelease).toBe(true);
    expect(answer.body).toContain('message_start');
    expect(answer.body).toContain('message_stop');
  });

  test('a cut-off stream and its retry are each metered once, with what each reported', async () => {
    const before = (await store.usage.getUsage('bob')).tenant;
    upstream.state.mode = 'cut';
    const cut = await call(port, { headers: { 'x-api-key': tokens.bob! }, body: { stream: true } });
    expect(cut.body).toContain('message_start');
    expect(cut.body).not.toContain('message_stop');
    upstream.state.mode = 'stream';
    const retry = await call(port, { headers: { 'x-api-key': tokens.bob! }, body: { stream: true } });
    expect(retry.body).toContain('message_stop');
    // The cut response reported input/cache and 1 output token; the retry reported all of it again.
    await waitFor("bob's cut and retried responses metered", async () => {
      expect((await store.usage.getUsage('bob')).tenant).toEqual({
        inputTokens: before.inputTokens + 240,
        outputTokens: before.outputTokens + 1 + FINAL_OUTPUT,
        cacheCreationInputTokens: before.cacheCreationInputTokens + 60,
        cacheReadInputTokens: before.cacheReadInputTokens + 800,
      });
      return true;
    }, { retryErrors: true });
  });

  test('a caller that goes away stops the upstream stream', async () => {
    upstream.state.mode = 'hold';
    const closedBefore = upstream.state.closed;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', agent: false, headers: { 'x-api-key': tokens.alice! } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.end(JSON.stringify({ stream: true }));
      setTimeout(() => reject(new Error('no first chunk')), 5000).unref();
    });
    await waitFor('the upstream stream closed', () => {
      expect(upstream.state.closed).toBe(closedBefore + 1);
      return true;
    }, { retryErrors: true });
    upstream.state.mode = 'stream';
  });

  test('an over-budget tenant gets a 429 Messages API rate_limit_error with x-should-retry: false and no Retry-After, and the upstream is not called', async () => {
    const first = await call(port, { headers: { 'x-api-key': tokens.carol! }, body: { stream: true } });
    expect(first.status).toBe(200); // 120 + 42 + 30 + 400 = 592 of 1000
    await waitFor("carol's first response metered", async () => {
      expect((await store.usage.getUsage('carol')).tenant.outputTokens).toBe(FINAL_OUTPUT);
      return true;
    }, { retryErrors: true });
    const second = await call(port, { headers: { 'x-api-key': tokens.carol! }, body: { stream: true } });
    expect(second.status).toBe(200); // 592 < 1000 before it; 1184 after
    await waitFor("carol's second response metered", async () => {
      expect((await store.usage.getUsage('carol')).tenant.outputTokens).toBe(2 * FINAL_OUTPUT);
      return true;
    }, { retryErrors: true });
    const calls = upstream.seen.length;
    const refused = await call(port, { headers: { 'x-api-key': tokens.carol! }, body: { stream: true } });
    expect(refused.status).toBe(429);
    // The window renews in up to periodS: an SDK honouring a retry-after would sleep that long.
    expect(refused.headers['retry-after']).toBeUndefined();
    expect(refused.headers['x-should-retry']).toBe('false');
    expect(refused.headers['x-berth-problem']).toBe('budget_exhausted');
    expect(refused.headers['content-type']).toBe('application/json');
    const body = JSON.parse(refused.body) as { type: string; error: { type: string; message: string } };
    expect(body).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringMatching(/^berth egress gateway: tenant carol has spent its model token budget \(\d+ of 1000 tokens per \d+ s\); it renews in \d+ s \[berth:budget_exhausted\]$/) } });
    expect(upstream.seen.length).toBe(calls);
  });

  test('the official Anthropic SDK gives up at once on the budget refusal (one request, no retries) and reads the message', async () => {
    let requests = 0;
    const client = new Anthropic({
      baseURL: `http://127.0.0.1:${port}`,
      apiKey: tokens.carol!,
      maxRetries: 5,
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        requests++;
        return fetch(input, init);
      },
    });
    const calls = upstream.seen.length;
    const error = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(requests).toBe(1);
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).status).toBe(429);
    expect((error as Error).message).toContain('tenant carol has spent its model token budget');
    expect(upstream.seen.length).toBe(calls);
  });

  test('no credential, a real-looking key, or a released credential: 401 and no upstream call', async () => {
    const calls = upstream.seen.length;
    expect((await call(port, { body: { stream: true } })).status).toBe(401);
    expect((await call(port, { headers: { 'x-api-key': 'sk-ant-api03-something' }, body: { stream: true } })).status).toBe(401);
    await store.bindings.clearSandbox('s-alice', 'sbx-alice');
    const released = await call(port, { headers: { 'x-api-key': tokens.alice! }, body: { stream: true } });
    expect(released.status).toBe(401);
    expect(JSON.parse(released.body)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(released.headers['x-should-retry']).toBe('false');
    expect(upstream.seen.length).toBe(calls);
  });

  test('paths outside the Messages API are not forwarded', async () => {
    const calls = upstream.seen.length;
    expect((await call(port, { path: '/v1/messages/batches', headers: { 'x-api-key': tokens.bob! }, body: {} })).status).toBe(404);
    expect((await call(port, { path: '/v1/files', headers: { 'x-api-key': tokens.bob! }, body: {} })).status).toBe(404);
    expect(upstream.seen.length).toBe(calls);
  });

  test('dot segments in any spelling are refused, never resolved into another upstream path', async () => {
    const calls = upstream.seen.length;
    for (const path of ['/v1/models/..', '/v1/models/%2e%2E', '/v1/models/./claude', '/v1/models/..%2fmessages', '/v1/models/..?x=1']) {
      const answer = await call(port, { method: 'GET', path, headers: { 'x-api-key': tokens.bob! } });
      expect(answer.status, path).toBe(404);
    }
    // The same route with a plain model id still goes through (the refusal above is the dots).
    expect((await call(port, { method: 'GET', path: '/v1/models/claude-x', headers: { 'x-api-key': tokens.bob! } })).status).not.toBe(404);
    expect(upstream.seen.length).toBe(calls + 1);
    expect(upstream.seen.at(-1)!.path).toBe('/v1/models/claude-x');
  });

  test('a model call sent through the proxy to the gateway itself (NO_PROXY missed it) is served as a model call', async () => {
    const answer = await call(port, {
      path: 'http://egress.test.internal:8081/v1/messages?beta=true',
      headers: { 'x-api-key': tokens.bob!, host: 'egress.test.internal:8081' },
      body: { stream: false },
    });
    expect(answer.status).toBe(200);
    expect(upstream.seen.at(-1)!.path).toBe('/v1/messages?beta=true');
    expect(upstream.seen.at(-1)!.headers['x-api-key']).toBe('sk-real-bob');
  });

  test('metered tokens appear in metrics without tenant labels', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/berth_egress_metered_tokens_total\{type="output"\} [1-9]/);
    expect(text).toMatch(/berth_egress_decisions_total\{kind="model",outcome="deny",reason="budget_exhausted"\} 2/); // the raw call and the SDK's one
    expect(text).not.toMatch(/alice|bob|carol/);
  });
});
