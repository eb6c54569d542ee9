// CONNECT tunnels for the forward proxy (HTTPS from the sandbox: curl, git, npm, WebFetch):
// authenticate the session credential in Proxy-Authorization, vet host:port against the
// tenant's allowlist, resolve once, dial the vetted address, then splice bytes both ways.
// Neighbours: destination.ts (the vetting), egress-server.ts (routes the 'connect' event here).
// It does not look inside the tunnel (TLS stays end to end) and follows nothing.

import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseAuthority } from '../policy/host-parse.js';
import { resolveDestination } from './destination.js';
import type { EgressContext } from './egress-context.js';
import { PROXY_CHALLENGE, socketProblem } from './http-util.js';

export function handleConnect(ctx: EgressContext, req: IncomingMessage, client: Duplex, head: Buffer, track: (s: Duplex) => void): void {
  client.on('error', () => client.destroy());
  track(client);
  void run(ctx, req, client, head, track).catch((error: unknown) => {
    ctx.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'egress connect failed');
    ctx.metrics.decision('connect', 'error', 'other');
    socketProblem(client, 'internal');
  });
}

async function run(ctx: EgressContext, req: IncomingMessage, client: Duplex, head: Buffer, track: (s: Duplex) => void): Promise<void> {
  const auth = await ctx.authenticate(req.headers, 'proxy', req.socket.remoteAddress);
  if (!auth.ok) {
    ctx.metrics.decision('connect', 'deny', auth.reason);
    ctx.logger.info({ door: 'connect', reason: auth.reason }, 'egress refused');
    if (auth.reason === 'store_unavailable') return socketProblem(client, 'store_unavailable', { retryAfterS: 1 });
    return socketProblem(client, 'proxy_auth_required', { headers: PROXY_CHALLENGE });
  }
  const { tenant, sessionId, policy } = auth.principal;
  const log = { door: 'connect', tenant, session: sessionId, target: req.url };
  // Counted from here until the client side closes, whatever happens in between.
  const open = ctx.tunnels.get(tenant) ?? 0;
  if (open >= ctx.limits.maxTunnelsPerTenant) {
    ctx.metrics.decision('connect', 'deny', 'tunnel_cap');
    ctx.logger.info({ ...log, reason: 'tunnel_cap', open }, 'egress refused');
    return socketProblem(client, 'quota_exceeded', { detail: `the tenant has ${open} open tunnels, the most allowed`, retryAfterS: 5 });
  }
  if (client.destroyed) return;
  ctx.tunnels.set(tenant, open + 1);
  client.once('close', () => {
    const left = (ctx.tunnels.get(tenant) ?? 1) - 1;
    if (left <= 0) ctx.tunnels.delete(tenant);
    else ctx.tunnels.set(tenant, left);
  });
  const target = parseAuthority(req.url ?? '');
  if (!target) {
    ctx.metrics.decision('connect', 'deny', 'invalid_host');
    ctx.logger.info({ ...log, reason: 'invalid_host' }, 'egress refused');
    return socketProblem(client, 'egress_denied', { detail: 'CONNECT target must be host:port' });
  }
  const dest = await resolveDestination(policy.allowlist, target.hostText, target.port, ctx.resolver, { timeoutMs: ctx.limits.resolveTimeoutMs });
  if (!dest.allow) {
    ctx.metrics.decision('connect', 'deny', dest.reason);
    ctx.logger.info({ ...log, reason: dest.reason }, 'egress refused');
    return socketProblem(client, 'egress_denied', { detail: dest.detail });
  }
  if (client.destroyed) return;

  // noDelay: the tunnel carries handshakes (TLS hellos, small requests); Nagle would hold a
  // small write back until the previous one is acknowledged. The client side (node:http) has it already.
  const upstream: Socket = connect({ host: dest.address, port: dest.port, family: dest.family, timeout: ctx.limits.connectTimeoutMs, noDelay: true });
  track(upstream);
  let established = false;
  const fail = (reason: 'connect_failed' | 'upstream_timeout') => {
    if (established) return;
    established = true; // only one answer
    upstream.destroy();
    ctx.metrics.decision('connect', 'error', reason);
    ctx.logger.info({ ...log, address: dest.address, reason }, 'egress connect to vetted address failed');
    socketProblem(client, reason === 'upstream_timeout' ? 'upstream_timeout' : 'upstream_failed');
  };
  upstream.once('timeout', () => fail('upstream_timeout'));
  upstream.once('error', () => fail('connect_failed'));
  client.once('close', () => upstream.destroy());
  upstream.once('connect', () => {
    if (established) return;
    established = true;
    upstream.removeAllListeners('timeout');
    upstream.on('error', () => client.destroy());
    // Idle bound on both sides: a tunnel nobody uses closes after tunnelIdleTimeoutMs.
    upstream.setTimeout(ctx.limits.tunnelIdleTimeoutMs, () => upstream.destroy());
    if ('setTimeout' in client && typeof client.setTimeout === 'function') {
      (client as Socket).setTimeout(ctx.limits.tunnelIdleTimeoutMs, () => client.destroy());
    }
    ctx.metrics.decision('connect', 'allow', 'ok');
    ctx.metrics.tunnelOpened();
    ctx.logger.info({ ...log, address: dest.address, rule: dest.rule }, 'egress tunnel opened');
    upstream.once('close', () => {
      ctx.metrics.tunnelClosed();
      ctx.metrics.bytes('connect', 'upstream', upstream.bytesWritten);
      ctx.metrics.bytes('connect', 'downstream', upstream.bytesRead);
      client.destroy();
    });
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

