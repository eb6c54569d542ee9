// Absolute-form plain-HTTP forwarding for the forward proxy (`GET http://host/path` from curl with
// http_proxy, package managers on http mirrors): authenticate, check that the Host header names
// the same authority as the request target, vet it like a CONNECT target, resolve once, send the
// request to the vetted address with hop-by-hop headers and the proxy credential removed, and
// relay the answer as it is. Neighbours: destination.ts, connect-tunnel.ts (the https twin).
// It follows no redirects (a 3xx goes back to the client, whose next request is vetted afresh)
// and speaks only http:// (https is CONNECT's job).

import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseAuthority, hostKey } from '../policy/host-parse.js';
import { resolveDestination } from './destination.js';
import type { EgressContext } from './egress-context.js';
import { PROXY_CHALLENGE, forwardHeaders, sendProblem } from './http-util.js';

const ABSOLUTE_HTTP = /^http:\/\/([^/?#]*)([^#]*)/i;

export async function handleForward(ctx: EgressContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const auth = await ctx.authenticate(req.headers, 'proxy', req.socket.remoteAddress);
  if (!auth.ok) {
    ctx.metrics.decision('http', 'deny', auth.reason);
    ctx.logger.info({ door: 'http', reason: auth.reason }, 'egress refused');
    if (auth.reason === 'store_unavailable') return sendProblem(res, 'store_unavailable', { retryAfterS: 1 });
    return sendProblem(res, 'proxy_auth_required', { headers: PROXY_CHALLENGE });
  }
  const { tenant, sessionId, policy } = auth.principal;
  const deny = (reason: string, detail: string) => {
    ctx.metrics.decision('http', 'deny', reason);
    ctx.logger.info({ door: 'http', tenant, session: sessionId, reason }, 'egress refused');
    sendProblem(res, 'egress_denied', { detail });
  };
  const match = ABSOLUTE_HTTP.exec(req.url ?? '');
  if (!match) return deny('unsupported_scheme', 'only http:// is forwarded; use CONNECT for https');
  const [, authorityText, pathText] = match as unknown as [string, string, string];
  if (authorityText.includes('@')) return deny('bad_request', 'userinfo in the request target is refused');
  const target = parseAuthority(authorityText, 80);
  if (!target) return deny('invalid_host', 'the request target has no valid host');
  // Security control: a Host header naming another authority than the URI is how a request
  // smuggles a second destination past a proxy that checks one and a server that reads the other.
  const hostHeader = typeof req.headers.host === 'string' ? parseAuthority(req.headers.host, 80) : null;
  if (req.headers.host !== undefined && (!hostHeader || hostKey(hostHeader.host) !== hostKey(target.host) || hostHeader.port !== target.port)) {
    return deny('host_mismatch', 'the Host header differs from the request target');
  }
  const dest = await resolveDestination(policy.allowlist, target.hostText, target.port, ctx.resolver, { timeoutMs: ctx.limits.resolveTimeoutMs });
  if (!dest.allow) return deny(dest.reason, dest.detail);

  const headers = forwardHeaders(req.headers);
  headers.host = authorityText;
  const upstream = httpRequest({
    host: dest.address,
    family: dest.family,
    port: dest.port,
    method: req.method,
    path: pathText === '' ? '/' : pathText,
    headers,
    setHost: false,
    agent: false, // no pooled sockets shared across tenants and sessions
    maxHeaderSize: ctx.limits.maxHeaderBytes,
    timeout: ctx.limits.tunnelIdleTimeoutMs,
  });
  let sent = 0;
  let received = 0;
  const finish = () => {
    ctx.metrics.bytes('http', 'upstream', sent);
    ctx.metrics.bytes('http', 'downstream', received);
  };
  upstream.on('timeout', () => upstream.destroy(new Error('idle timeout')));
  upstream.on('error', () => {
    ctx.metrics.decision('http', 'error', 'upstream_failed');
    sendProblem(res, 'upstream_failed', { detail: 'the destination did not answer' });
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.on('response', (answer) => {
    ctx.metrics.decision('http', 'allow', 'ok');
    ctx.logger.info({ door: 'http', tenant, session: sessionId, target: authorityText, address: dest.address, status: answer.statusCode }, 'egress forwarded');
    res.writeHead(answer.statusCode ?? 502, forwardHeaders(answer.headers));
    answer.on('data', (chunk: Buffer) => (received += chunk.length));
    answer.on('end', finish);
    answer.on('error', () => res.destroy());
    answer.pipe(res);
  });
  req.on('data', (chunk: Buffer) => (sent += chunk.length));
  req.pipe(upstream);
}
