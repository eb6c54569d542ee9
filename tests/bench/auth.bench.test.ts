// Benchmarks of the ingress API's authenticated hot path and of held streams:
// - requests/s on GET /sessions/{id} with a static token and with a JWT (ES256, local key file),
//   against a raw node:http server answering the same JSON and a raw node:http relay in front of
//   it, same run (autocannon in a child process, bounded duration per arm);
// - resident memory per held idle stream: N resume streams (GET /sessions/{id}/stream with the
//   Last-Event-ID of a running slow turn) held open by a child process (idle-stream-clients.mjs),
//   RSS delta of this process / N. 5,000 streams locally; 500 in CI mode (BERTH_BENCH_ROUNDS set).
// Neighbours: measure.ts, fixtures/stack.ts, fixtures/jwks-server.ts (keys, tokens).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeKey, signToken } from '../fixtures/jwks-server.js';
import { authHeaders, startTestStack, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';
import { median, settleHeap } from './measure.js';

const CI_MODE = Boolean(process.env.BERTH_BENCH_ROUNDS);
/** Seconds per autocannon arm: bounded so the file stays short in CI. */
const ARM_DURATION_S = 2;
/** Interleaved rounds of the four arms; one in CI (the arms are already 2 s of load each). */
const RPS_ROUNDS = CI_MODE ? 1 : 3;
/** autocannon connections: enough to keep one event loop busy, few enough for 2 cores. */
const CONNECTIONS = 10;
const IDLE_STREAMS = CI_MODE ? 500 : 5000;
const SESSION = 'bench-auth-1';

let s: TestStack;
let keyDir: string;
let jwt: string;
let raw: Server;
let relay: Server;
const relayAgent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
let clients: ChildProcessWithoutNullStreams | undefined;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

beforeAll(async () => {
  const key = await makeKey('ES256', 'bench-1');
  keyDir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-jwt-'));
  await writeFile(path.join(keyDir, 'idp.pem'), key.publicPem);
  jwt = await signToken(key, { claims: { berth_tenant: 'alice' }, expInS: 3600 });
  s = await startTestStack({
    poolSize: 1,
    // Drain grace 1 s: stop() does not wait out the default 30 s for the slow turn's stream. The
    // per-tenant stream cap is raised: this bench holds hundreds of one tenant's streams on purpose.
    env: { BERTH_JWT_PUBLIC_KEY_FILE: path.join(keyDir, 'idp.pem'), BERTH_JWT_ISSUER: 'https://idp.test', BERTH_JWT_AUDIENCE: 'berth', BERTH_DRAIN_GRACE_S: '1', BERTH_MAX_STREAMS_PER_TENANT: '100000' },
  });
  // The pool's agent process boots (SDK import) right after start: let it finish first, so its
  // CPU does not land on whichever arm runs first.
  await waitFor('the pool\'s standby to boot', async () => (await s.stack.backend!.pool())[0]!.ready >= 1, { timeoutMs: 60_000 });
  const now = Date.now();
  expect((await s.stack.store.sessions.createSession({ id: SESSION, tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: now, lastActivityAt: now, turns: 0 })).kind).toBe('created');
  // The raw server answers what the gateway answers for this session, byte for byte.
  const res = await fetch(`${s.url}/sessions/${SESSION}`, { headers: authHeaders(s.tokens.alice) });
  expect(res.status).toBe(200);
  const body = await res.text();
  raw = createServer((req, reply) => {
    req.resume();
    reply.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    reply.end(body);
  });
  const rawPort = await listen(raw);
  relay = createServer((req, reply) => {
    const upstream = request({ host: '127.0.0.1', port: rawPort, path: req.url, method: req.method, headers: req.headers, agent: relayAgent }, (answer) => {
      reply.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(reply);
    });
    upstream.on('error', () => reply.destroy());
    req.pipe(upstream);
  });
  await listen(relay);
}, 120_000);

afterAll(async () => {
  clients?.kill('SIGKILL');
  relayAgent.destroy();
  for (const server of [raw, relay]) {
    if (!server) continue;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await s?.stop();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

interface CannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
}

/** One autocannon run in a child process (so the load generator never shares this event loop). */
function cannon(url: string, token?: string): Promise<CannonResult> {
  const bin = createRequire(import.meta.url).resolve('autocannon');
  const args = [bin, '--json', '-c', String(CONNECTIONS), '-d', String(ARM_DURATION_S), ...(token ? ['-H', `authorization=Bearer ${token}`] : []), url];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as CannonResult);
      } catch (error) {
        reject(new Error(`autocannon output not JSON: ${out.slice(0, 200)} ${String(error)}`));
      }
    });
  });
}

const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;

test(`resident memory per held idle stream (${IDLE_STREAMS} resume streams)`, async () => {
  const session = 'bench-idle-1';
  // A slow turn (~8 model events, delayMs apart) stays running while the streams are held.
  const delayMs = IDLE_STREAMS >= 5000 ? 6000 : 2500;
  s.model.script({ kind: 'slow', delayMs });
  const abort = new AbortController();
  const turn = await fetch(`${s.url}/sessions/${session}/messages`, {
    method: 'POST', signal: abort.signal,
    headers: { ...authHeaders(s.tokens.alice), 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a long answer please' }),
  });
  expect(turn.status).toBe(200);
  const reader = turn.body!.getReader();
  let text = '';
  while (!/^id: (\S+)$/m.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the turn ended before its first frame: ${text}`);
    text += new TextDecoder().decode(value);
  }
  const lastEventId = /^id: (\S+)$/m.exec(text)![1]!;
  // The caller goes away; the turn runs on and fills the session's event log the resume streams tail.
  abort.abort();

  // Runs first in this file, before the load test's garbage; two full collections and a short
  // settle so the baseline is as close to the steady state as RSS gets.
  await settleHeap();
  const before = process.memoryUsage();
  const script = path.join(import.meta.dirname, 'idle-stream-clients.mjs');
  clients = spawn(process.execPath, [script, new URL(s.url).port, `/sessions/${session}/stream`, s.tokens.alice, lastEventId, String(IDLE_STREAMS)]);
  const lines = createInterface({ input: clients.stdout });
  const next = (): Promise<Record<string, number | string>> => new Promise((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line)));
    clients!.once('exit', (code) => reject(new Error(`stream clients exited ${code}`)));
  });
  const opened = await next();
  expect(opened).toMatchObject({ event: 'opened', opened: IDLE_STREAMS, failed: 0 });
  // The streams only wait now (no polling): settle the heap, then measure.
  await settleHeap();
  const held = process.memoryUsage();
  clients.stdin.write('report\n');
  const report = await next();
  // Every stream was still open when measured: the slow turn had not ended.
  expect(report).toMatchObject({ event: 'report', open: IDLE_STREAMS, endedEarly: 0 });
  const exited = new Promise((resolve) => clients!.once('exit', resolve));
  clients.stdin.write('close\n');
  await exited;
  clients = undefined;
  const kib = (bytes: number): number => Math.round((bytes / IDLE_STREAMS / 1024) * 100) / 100;
  console.log(JSON.stringify({
    bench: 'idle_stream_memory',
    streams: IDLE_STREAMS,
    mode: CI_MODE ? 'ci (BERTH_BENCH_ROUNDS set: 500 streams)' : 'local (5000 streams)',
    rssDeltaMiB: Math.round(((held.rss - before.rss) / 1048576) * 10) / 10,
    rssKiBPerStream: kib(held.rss - before.rss),
    heapUsedKiBPerStream: kib(held.heapUsed - before.heapUsed),
    what: 'GET /sessions/{id}/stream with the Last-Event-ID of a running slow turn (resume tail: SseResponse + heartbeat timer + event-log watcher woken on append per stream), clients in a child process, gateway in this process (in-memory store)',
  }));
  // ≈40 KiB per idle stream measured; 1 MiB each would be a buffer or a leak per stream.
  expect(held.rss - before.rss).toBeLessThan(IDLE_STREAMS * 1024 * 1024);
}, 180_000);

test('requests/s on GET /sessions/{id}: static token and JWT vs a raw node:http server and relay', async () => {
  const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/sessions/${SESSION}`;
  const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}/sessions/${SESSION}`;
  const arms = {
    staticToken: () => cannon(`${s.url}/sessions/${SESSION}`, s.tokens.alice),
    jwt: () => cannon(`${s.url}/sessions/${SESSION}`, jwt),
    rawServer: () => cannon(rawUrl),
    rawRelay: () => cannon(relayUrl),
  };
  // Warm-up (JIT, connection setup, JWT key import) of every path, untimed.
  for (const [url, token] of [[`${s.url}/sessions/${SESSION}`, s.tokens.alice], [`${s.url}/sessions/${SESSION}`, jwt], [rawUrl, ''], [relayUrl, '']] as const) {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(url, { headers: token ? authHeaders(token) : {} });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  }
  const rps: Record<keyof typeof arms, number[]> = { staticToken: [], jwt: [], rawServer: [], rawRelay: [] };
  for (let round = 0; round < RPS_ROUNDS; round++) {
    // The order rotates each round, so no arm always runs first (or right after the same one).
    const order = Object.entries(arms) as Array<[keyof typeof arms, () => Promise<CannonResult>]>;
    for (const [name, run] of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
      const result = await run();
      // Every request of every arm answered 200: a refused token would make a fast, wrong number.
      expect([name, result.non2xx, result.errors]).toEqual([name, 0, 0]);
      expect(result.requests.total).toBeGreaterThan(0);
      rps[name].push(result.requests.average);
    }
  }
  const m = Object.fromEntries(Object.entries(rps).map(([name, values]) => [name, Math.round(median(values))])) as Record<keyof typeof arms, number>;
  console.log(JSON.stringify({
    bench: 'auth_rps_get_session',
    rps: m,
    staticVsRawServer: ratio(m.staticToken, m.rawServer),
    jwtVsRawServer: ratio(m.jwt, m.rawServer),
    staticVsRawRelay: ratio(m.staticToken, m.rawRelay),
    jwtVsRawRelay: ratio(m.jwt, m.rawRelay),
    jwtVsStatic: ratio(m.jwt, m.staticToken),
    rounds: RPS_ROUNDS,
    durationSPerArm: ARM_DURATION_S,
    connections: CONNECTIONS,
    note: 'autocannon in a child process; gateway with the in-memory route store; JWT = ES256 from a local public key file; raw relay = node:http proxy (keep-alive agent) in front of the raw server',
  }));
  for (const value of Object.values(m)) expect(Number.isFinite(value) && value > 0).toBe(true);
}, 120_000);
