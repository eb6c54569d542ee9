// Pins protocol's one problem writer (protocol/src/problem-writer.ts) on what every berth server
// writes with it: a real node:http response (the egress gateway, the agent server), an express
// response (the ingress), a response whose stream already started, and a raw socket (a refused
// CONNECT). Also the gateway's domain-error map at the adapter edges.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import express from 'express';
import { afterEach, describe, expect, test } from 'vitest';
import { PROBLEMS, PROBLEM_TYPE_BASE, renderProblem, writeProblem, writeProblemToSocket, type ProblemCode } from '@berth/protocol';
import { bootstrapSandbox, SandboxError } from '@berth/orchestrator';
import { mapError, sendProblem } from '@berth/gateway/testing';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('writeProblem', () => {
  test('on a node:http response: status, problem+json, Retry-After, extra headers, a body from the registry', async () => {
    const url = await listen((_req, res) => writeProblem(res, 'rate_limited', { detail: 'slow down', retryAfterS: 3, headers: { 'x-berth-limit': 'rpm' } }));
    const res = await fetch(url);
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('x-berth-limit')).toBe('rpm');
    const text = await res.text();
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text)).toEqual({ type: `${PROBLEM_TYPE_BASE}rate-limited`, title: PROBLEMS.rate_limited.title, status: 429, code: 'rate_limited', detail: 'slow down' });
  });

  test("on an express response, through the gateway's sendProblem: the same answer plus instance", async () => {
    const app = express();
    app.get('/x', (_req, res) => sendProblem(res, { code: 'store_unavailable', detail: 'retry shortly', retryAfterS: 2 }, '/x'));
    const url = await listen(app);
    const res = await fetch(`${url}/x`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({ code: 'store_unavailable', status: 503, detail: 'retry shortly', instance: '/x' });
  });

  test('once headers went out, the response is cut instead of splicing a problem into the stream', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {}\n\n', () => writeProblem(res, 'internal'));
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });
});

describe('writeProblemToSocket', () => {
  test('writes one whole HTTP/1.1 answer with Connection: close and ends the socket', async () => {
    const socket = new PassThrough();
    let written = '';
    socket.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
    const ended = new Promise((resolve) => socket.on('end', resolve));
    writeProblemToSocket(socket, 'egress_denied', { detail: 'not on the allowlist' });
    await ended;
    const [head, body] = written.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(head).toContain('connection: close');
    expect(head).toContain(`content-length: ${Buffer.byteLength(body!)}`);
    expect(JSON.parse(body!)).toMatchObject({ code: 'egress_denied', status: 403, detail: 'not on the allowlist' });
  });

  test('a socket that can no longer be written is destroyed', () => {
    const socket = new PassThrough();
    socket.end();
    writeProblemToSocket(socket, 'egress_denied');
    expect(socket.destroyed).toBe(true);
  });

  test('every status of the registry has its reason phrase', () => {
    for (const code of Object.keys(PROBLEMS) as ProblemCode[]) {
      const socket = new PassThrough();
      let written = '';
      socket.on('data', (chunk: Buffer) => (written += chunk.toString('utf8')));
      writeProblemToSocket(socket, code);
      expect([code, written.split('\r\n')[0]]).not.toEqual([code, `HTTP/1.1 ${renderProblem(code).status} Error`]);
    }
  });
});

describe('domain codes at the adapter edges', () => {
  test("a backend's configuration error is invalid_config: 503 backend_unavailable, logged, no Retry-After", () => {
    expect(mapError(new SandboxError('invalid_config', "pool name 'x' is not a DNS label"))).toEqual({
      code: 'backend_unavailable', detail: "pool name 'x' is not a DNS label", retryAfterS: undefined, unexpected: true,
    });
    expect(mapError(new SandboxError('unavailable', 'API down'))).toMatchObject({ code: 'backend_unavailable', retryAfterS: 5, unexpected: false });
  });

  test('a bootstrap the sandbox never answers is start_failed (502 sandbox_failed), not not_found', async () => {
    const url = await listen((req) => req.socket.destroy());
    const error = await bootstrapSandbox({ sandboxId: 'sbx-1', url, authToken: 't' }, { sessionId: 's', tenant: 'alice', profile: {}, model: { baseUrl: 'http://127.0.0.1:9', apiKey: 'k' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SandboxError', code: 'start_failed' });
    expect(mapError(error).code).toBe('sandbox_failed');
  });
});
