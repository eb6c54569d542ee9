// What express costs on the two hot routes (issue 15.4: serve them on a lean node:http path only if
// express dominates). Three arms per route, interleaved in one run, sequential keep-alive requests:
// - raw: a node:http server answering the same bytes (reads and parses the body for the POST);
// - express: an express 5 app with the gateway's settings answering the same bytes from one route
//   (for the POST behind express.json, as the message route is): raw + express = express's cost;
// - gateway: the real gateway (in-process store): GET /sessions/{id} in full; for the POST, a
//   resume with the Last-Event-ID of the frame before a finished turn's terminal frame (auth,
//   rate, gate, body, one log read, the terminal frame), the cheapest POST that runs the whole
//   route without starting a turn.
// express's share of what the gateway adds = (express − raw) / (gateway − raw).
// Neighbours: measure.ts (medians, JSON lines), auth.bench.test.ts (throughput of the same route).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { authHeaders, sendMessage, startTestStack, type TestStack } from '../fixtures/stack.js';
import { median, percentile, ROUNDS } from './measure.js';

const SESSION = 'bench-express-1';
/** Requests per arm per round. */
const PER_ROUND = 40;

let s: TestStack;
let raw: Server;
let viaExpress: Server;
let rawUrl: string;
let expressUrl: string;
let answer: string;
let lastId: string;

beforeAll(async () => {
  s = await startTestStack({ poolSize: 1 });
  const turn = await sendMessage(s.url, SESSION, 'hi', { token: s.tokens.alice });
  // The frame before the terminal one: a resume from it gets the terminal frame and ends.
  lastId = turn.frames.at(-2)!.id!;
  expect(turn.frames.at(-1)!.event).toBe('done');
  answer = await (await fetch(`${s.url}/sessions/${SESSION}`, { headers: authHeaders(s.tokens.alice) })).text();
  raw = createServer((req, res) => {
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(answer);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' }).end(`id: ${lastId}\nevent: done\ndata: {}\n\n`);
    });
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/sessions/:id', (_req, res) => void res.type('application/json').send(answer));
  app.post('/sessions/:id/messages', express.json({ type: () => true }), (_req, res) => {
    res.status(200).setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.end(`id: ${lastId}\nevent: done\ndata: {}\n\n`);
  });
  viaExpress = createServer(app);
  rawUrl = `http://127.0.0.1:${await listen(raw)}`;
  expressUrl = `http://127.0.0.1:${await listen(viaExpress)}`;
}, 120_000);

afterAll(async () => {
  for (const server of [raw, viaExpress]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  await s?.stop();
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function timedGet(base: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/sessions/${SESSION}`, { headers: authHeaders(s.tokens.alice) });
  await res.arrayBuffer();
  const ms = performance.now() - start;
  expect(res.status).toBe(200);
  return ms;
}

async function timedPost(base: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/sessions/${SESSION}/messages`, {
    method: 'POST',
    headers: { ...authHeaders(s.tokens.alice), 'content-type': 'application/json', 'last-event-id': lastId },
    body: JSON.stringify({ prompt: 'a prompt of ordinary length for the body parser to read' }),
  });
  const text = await res.text();
  const ms = performance.now() - start;
  expect(res.status).toBe(200);
  expect(text).toContain('event: ');
  return ms;
}

async function measure(route: 'get' | 'post'): Promise<void> {
  const arms = { raw: rawUrl, express: expressUrl, gateway: s.url };
  const sample = route === 'get' ? timedGet : timedPost;
  for (let i = 0; i < 20; i++) for (const base of Object.values(arms)) await sample(base);
  const perRound: Record<keyof typeof arms, number[]> = { raw: [], express: [], gateway: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const samples: Record<keyof typeof arms, number[]> = { raw: [], express: [], gateway: [] };
    for (let i = 0; i < PER_ROUND; i++) for (const [name, base] of Object.entries(arms)) samples[name as keyof typeof arms].push(await sample(base));
    for (const name of Object.keys(arms) as Array<keyof typeof arms>) perRound[name].push(percentile(samples[name], 50));
  }
  const p50 = Object.fromEntries(Object.entries(perRound).map(([name, values]) => [name, round(median(values))])) as Record<keyof typeof arms, number>;
  const expressAddedMs = round(p50.express - p50.raw);
  const gatewayAddedMs = round(p50.gateway - p50.raw);
  console.log(JSON.stringify({
    bench: `express_cost_${route === 'get' ? 'get_session' : 'post_messages'}`,
    p50Ms: p50,
    expressAddedMs,
    gatewayAddedMs,
    expressShareOfGatewayAdded: gatewayAddedMs > 0 ? round(expressAddedMs / gatewayAddedMs) : null,
    samplesPerArm: ROUNDS * PER_ROUND,
    rounds: ROUNDS,
    note: 'sequential keep-alive fetches on loopback; gateway = in-process store; medians of per-round p50s',
  }));
  // Sanity only: the gateway does everything the minimal express app does and more.
  expect(p50.gateway).toBeGreaterThan(0);
}

test('express cost on GET /sessions/{id}: raw node:http vs a minimal express app vs the gateway', async () => {
  await measure('get');
});

test('express cost on POST /sessions/{id}/messages: raw node:http vs express.json + route vs the gateway', async () => {
  await measure('post');
});

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
