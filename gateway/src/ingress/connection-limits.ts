// How the ingress bounds what one caller's connections can hold: Node's own request clocks
// (head, whole request, socket idle), a cap on connections per process, problem+json answers
// for the errors Node raises before express sees a request (408, 431, 400), a cap on open
// streams per tenant, and 405 for a known path with the wrong method. Neighbours: gateway.ts
// applies these to its server; app.ts mounts the two middlewares. Security controls, all of them:
// without them one client holds file descriptors and memory forever.

import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express, RequestHandler } from 'express';
import { BerthError, PROBLEM_CONTENT_TYPE, problemBody, type ProblemCode } from '@berth/protocol';
import type { Principal } from '../auth/authenticator.js';

export interface IngressLimits {
  /** Time to receive a request head, ms. Default 30 000 (slow-loris bound); 408 past it. */
  headersTimeoutMs: number;
  /**
   * Time to receive a whole request, head and body, ms. Default 60 000: a prompt of 256 KiB
   * arrives in well under a second; a trickled body is cut with 408. It ends when the request
   * body does, so a long SSE answer is not affected.
   */
  requestTimeoutMs: number;
  /**
   * Socket inactivity, ms. Default 120 000: well above the SSE heartbeat (15 s), so only a dead
   * or stalled connection trips it; idle keep-alive sockets close earlier (keepAliveTimeout).
   */
  idleSocketTimeoutMs: number;
  /** Open connections per gateway process. Default 10 000; past it Node closes new ones at once. */
  maxConnections: number;
  /**
   * Open streaming requests (message turns, resumes, event tails) per tenant per process.
   * Default 256: far above maxConcurrentTurns plus a few tails each; past it 429.
   */
  maxStreamsPerTenant: number;
}

export const DEFAULT_INGRESS_LIMITS: Readonly<IngressLimits> = Object.freeze({
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  idleSocketTimeoutMs: 120_000,
  maxConnections: 10_000,
  maxStreamsPerTenant: 256,
});

export function applyServerLimits(server: Server, limits: IngressLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.timeout = limits.idleSocketTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => answerClientError(error, socket));
}

/**
 * How often Node checks the head and request clocks, ms: a quarter of the shorter one, so a
 * slow client is cut within 1.25× its limit (Node's default, 30 s, would let it stay 30 s more).
 */
export function connectionsCheckingIntervalMs(limits: IngressLimits): number {
  return Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4));
}

const CLIENT_ERRORS: Record<string, ProblemCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  HPE_HEADER_OVERFLOW: 'headers_too_large',
};

/** Node's 'clientError': the request never reached express; answer it as problem+json and close. */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A response already started on this socket (Node keeps it as _httpMessage): a second status
  // line would be garbage to the client, so the connection just closes, as Node's own handler does.
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || error.code === 'ECONNRESET' || current?.headersSent) {
    socket.destroy();
    return;
  }
  const code: ProblemCode = CLIENT_ERRORS[error.code ?? ''] ?? 'invalid_body';
  const detail = code === 'request_timeout'
    ? 'the request head or body did not arrive in time'
    : code === 'headers_too_large' ? 'the request head is larger than the gateway accepts' : 'the request is not valid HTTP';
  const problem = problemBody(code, detail);
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}\r\n` +
      `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Streaming routes: what one open response per request costs a tenant. */
const STREAMING = /^\/sessions\/[^/]+\/(?:messages|stream|events)$/;

/** Caps open streams per tenant; mount after authentication on /sessions. */
export function streamCap(limits: Pick<IngressLimits, 'maxStreamsPerTenant'>, onRefused: () => void = () => {}): RequestHandler {
  const open = new Map<string, number>();
  return (req, res, next) => {
    if (!STREAMING.test(req.originalUrl.split('?')[0]!)) return next();
    const principal = res.locals.principal as Principal | undefined;
    if (principal?.kind !== 'tenant') return next();
    const { tenant } = principal;
    const count = open.get(tenant) ?? 0;
    if (count >= limits.maxStreamsPerTenant) {
      onRefused();
      return next(new BerthError('quota_exceeded', `the tenant has ${count} open streams, the most one gateway keeps open`, { retryAfterS: 5 }));
    }
    open.set(tenant, count + 1);
    res.once('close', () => {
      const left = (open.get(tenant) ?? 1) - 1;
      if (left <= 0) open.delete(tenant);
      else open.set(tenant, left);
    });
    next();
  };
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
  match?: (path: string) => boolean;
}

/**
 * 405 with Allow for a path some route serves under other methods (PUT on a session), 404 for
 * the rest. Reads express's own route table, so routes added later are covered without a list.
 */
export function methodNotAllowed(app: Express): RequestHandler {
  return (req, res, next) => {
    const allowed = new Set<string>();
    const walk = (stack: RouteLayer[] | undefined): void => {
      for (const layer of stack ?? []) {
        if (layer.route) {
          if (layer.match?.(req.path)) for (const method of Object.keys(layer.route.methods)) allowed.add(method.toUpperCase());
        } else walk(layer.handle?.stack);
      }
    };
    walk((app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack);
    allowed.delete('_ALL');
    if (allowed.size === 0) return next(new BerthError('not_found', `no route ${req.method} ${req.path.slice(0, 200)}`));
    if (allowed.has('GET')) allowed.add('HEAD');
    res.setHeader('allow', [...allowed].sort().join(', '));
    next(new BerthError('method_not_allowed', `${req.method} is not allowed on ${req.path.slice(0, 200)}`));
  };
}
