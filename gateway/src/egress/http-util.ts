// Small HTTP helpers the egress handlers share: hop-by-hop header stripping (RFC 9110 §7.6.1)
// and problem answers on a response object or on a raw socket (CONNECT has no response object).
// Neighbours: model-proxy.ts, forward-proxy.ts, connect-tunnel.ts. No policy here.

import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problemBody, type ProblemCode } from '@berth/protocol';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
]);

/**
 * Copies headers minus hop-by-hop ones, those named in Connection, `host` (set per hop) and any
 * in `drop` (lower case). Security control: the proxy credential never travels past the gateway.
 */
export function forwardHeaders(headers: IncomingHttpHeaders, drop: readonly string[] = []): OutgoingHttpHeaders {
  const named = new Set<string>([...HOP_BY_HOP, ...drop]);
  const connection = headers.connection;
  for (const token of (Array.isArray(connection) ? connection.join(',') : connection ?? '').split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '') named.add(name);
  }
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !named.has(name)) out[name] = value;
  }
  return out;
}

export interface ProblemOptions {
  detail?: string;
  retryAfterS?: number;
  headers?: Record<string, string>;
}

function serialise(code: ProblemCode, options: ProblemOptions): { status: number; body: string; headers: Record<string, string> } {
  const body = problemBody(code, options.detail);
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, ...options.headers };
  if (options.retryAfterS !== undefined) headers['retry-after'] = String(options.retryAfterS);
  return { status: body.status, body: JSON.stringify(body), headers };
}

/** Answers with a problem unless headers already went out, in which case the stream is cut. */
export function sendProblem(res: ServerResponse, code: ProblemCode, options: ProblemOptions = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, body, headers } = serialise(code, options);
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A problem answer written straight onto a CONNECT socket, which is then closed. */
export function socketProblem(socket: Duplex, code: ProblemCode, options: ProblemOptions = {}): void {
  const { status, body, headers } = serialise(code, options);
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const [name, value] of Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' })) {
    head += `${name}: ${value}\r\n`;
  }
  if (!socket.writable) return void socket.destroy();
  socket.end(`${head}\r\n${body}`);
}

/** The 407 challenge: Basic (what curl and the CLI send from HTTPS_PROXY userinfo) and Bearer. */
export const PROXY_CHALLENGE = { 'proxy-authenticate': 'Basic realm="berth-egress", Bearer realm="berth-egress"' };
