// Small HTTP helpers the egress handlers share: hop-by-hop header stripping (RFC 9110 §7.6.1),
// and the names they answer problems by: protocol's one writer, on a response object or on a raw
// socket (CONNECT has no response object). Neighbours: model-proxy.ts, forward-proxy.ts,
// connect-tunnel.ts. No policy here.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export { writeProblem as sendProblem, writeProblemToSocket as socketProblem, type ProblemAnswer as ProblemOptions } from '@berth/protocol';

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

/** The 407 challenge: Basic (what curl and the CLI send from HTTPS_PROXY userinfo) and Bearer. */
export const PROXY_CHALLENGE = { 'proxy-authenticate': 'Basic realm="berth-egress", Bearer realm="berth-egress"' };
