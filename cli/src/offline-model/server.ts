// The offline model: a node:http server speaking enough of the Anthropic Messages API for the
// Agent SDK's CLI to run whole turns with no network (`berth start --offline-model`, and every
// e2e test). It records each request, answers from a FIFO script or with a deterministic echo,
// and never calls out. Neighbours: replies.ts (what to answer), wire.ts (how it is encoded).
// It is not a model: no tokenizer, no sampling, no auth check (any key is accepted, and kept in
// `requests` so tests can see which credential arrived).

import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyRequest, planReply, type RequestKind, type ScriptedReply } from './replies.js';
import { errorBody, messageJson, streamEvents, usageFor, writeEvent } from './wire.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string (the CLI sends `/v1/messages?beta=true`). */
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or null when absent or not JSON. */
  body: Record<string, unknown> | null;
  /** 'main' for conversation requests, 'title' for side requests; undefined off /v1/messages. */
  kind: RequestKind | undefined;
}

export interface OfflineModelOptions {
  /** Loopback by default: the offline model never needs to be reachable from elsewhere. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface OfflineModel {
  url: string;
  requests: RecordedRequest[];
  /** Queues replies; each main request takes the next one, then the echo default resumes. */
  script(...replies: ScriptedReply[]): void;
  /** Scripted replies not consumed yet (a test can assert none are left over). */
  pending(): number;
  close(): Promise<void>;
}

/** Request bodies above this are refused (413); a CLI request with a long history is ~200 KB. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export async function startOfflineModel(options: OfflineModelOptions = {}): Promise<OfflineModel> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  let messageCount = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | null = null;
      try {
        const parsed: unknown = raw ? JSON.parse(raw) : null;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        body = null;
      }
      const isMessages = req.method === 'POST' && path === '/v1/messages';
      const kind = isMessages && body ? classifyRequest(body) : undefined;
      requests.push({ method: req.method ?? 'GET', path, query, headers: req.headers, body, kind });
      if (size > MAX_BODY_BYTES) return void sendJson(res, 413, errorBody('request_too_large', 'offline model: body too large'));
      if (!isMessages) return void sendJson(res, 404, errorBody('not_found_error', `offline model: no route ${req.method} ${path}`));
      if (!body) return void sendJson(res, 400, errorBody('invalid_request_error', 'offline model: body must be a JSON object'));
      // Side requests never take the script, so a scripted fault always hits the turn itself.
      const scripted = kind === 'main' ? queue.shift() : undefined;
      messageCount += 1;
      void answer(req, res, body, Buffer.byteLength(raw), scripted, messageCount);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>, requestBytes: number, scripted: ScriptedReply | undefined, seq: number): Promise<void> {
  const plan = planReply(body, scripted, seq);
  const model = typeof body.model === 'string' ? body.model : 'offline-model';
  const id = `msg_offline_${seq}`;
  if (plan.kind === 'status') {
    const headers: Record<string, string> = { ...plan.headers };
    if (plan.retryAfterS !== undefined) headers['retry-after'] = String(plan.retryAfterS);
    return sendJson(res, plan.status, errorBody(plan.errorType, plan.message), headers);
  }
  if (plan.kind === 'cut') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const events = streamEvents(id, model, [{ type: 'text', text: 'cut' }], 'end_turn', usageFor(requestBytes, []));
    writeEvent(res, ...(events[0] as [string, unknown]));
    writeEvent(res, ...(events[1] as [string, unknown]));
    // Let the two events reach the socket, then drop it mid-message like a failing network.
    setTimeout(() => req.socket.destroy(), 20);
    return;
  }
  const usage = usageFor(requestBytes, plan.content);
  if (body.stream !== true) return sendJson(res, 200, messageJson(id, model, plan.content, plan.stopReason, usage));
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_offline_${seq}` });
  let closed = false;
  res.on('close', () => (closed = true));
  for (const [event, data] of streamEvents(id, model, plan.content, plan.stopReason, usage)) {
    if (closed) return;
    writeEvent(res, event, data);
    if (plan.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.delayMs));
  }
  res.end();
}

function sendJson(res: http.ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(payload));
}
