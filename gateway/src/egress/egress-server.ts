// The egress gateway's one listener (BERTH_EGRESS_HOST:PORT): the sandbox's ANTHROPIC_BASE_URL
// and its HTTP(S)_PROXY at once. Routing by request form:
//   CONNECT host:port          → connect-tunnel.ts (forward proxy, https)
//   GET http://host/…          → forward-proxy.ts (forward proxy, plain http)
//   POST http://<self>/v1/…    → model-proxy.ts (a client that sent model calls through the proxy
//                                because NO_PROXY missed the gateway; same credential check)
//   /v1/…                      → model-proxy.ts (reverse proxy to the model API)
//   GET /healthz               → 200 (liveness for probes)
// Neighbours: stack.ts (`berth start`, `berth gateway`) builds the options from config. Nothing
// here reads env or files.

import { Agent as HttpAgent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { SessionCredentials } from '../credentials/credentials.js';
import { cacheVerifiedCredentials } from '../credentials/verified-cache.js';
import type { SandboxBinding } from '../store/session-records.js';
import type { Store } from '../store/store.js';
import { handleConnect } from './connect-tunnel.js';
import { systemResolver } from './destination.js';
import { DEFAULT_EGRESS_LIMITS, type EgressContext, type EgressLimits } from './egress-context.js';
import { createEgressMetrics } from './egress-metrics.js';
import type { EgressLogger, Resolver, TenantEgressPolicy } from './egress-types.js';
import { handleForward } from './forward-proxy.js';
import { parseAuthority, hostKey } from '../policy/host-parse.js';
import { sendProblem } from './http-util.js';
import { handleModel, type ModelProxyOptions } from './model-proxy.js';
import { createProxyAuthenticator } from './proxy-auth.js';

export interface EgressServerOptions {
  credentials: SessionCredentials;
  /** Session records (credential revocation), sandbox bindings (egress keys) and the usage ledger (metering, budgets). */
  store: Pick<Store, 'sessions' | 'bindings' | 'usage'>;
  /** The tenant's policy, or undefined for an unknown tenant (its credentials are refused). */
  tenants: (name: string) => TenantEgressPolicy | undefined;
  /** Model API base, e.g. https://api.anthropic.com (BERTH_MODEL_UPSTREAM_URL). */
  upstreamUrl: string;
  /** The real key for a tenant: its own (modelApiKeyEnv) or the global ANTHROPIC_API_KEY. */
  realKeyFor: (tenant: string) => string | undefined;
  registry: Registry;
  logger: EgressLogger;
  /** Default: the system resolver (getaddrinfo). Tests inject a map. */
  resolver?: Resolver;
  now?: () => number;
  /** BERTH_EGRESS_PUBLIC_URL: absolute-form requests to this authority are model calls. */
  publicUrl?: string;
  /** Optional source-address check per request (see proxy-auth.ts sourceMatchesBinding). */
  checkSource?: (binding: SandboxBinding, remoteAddress: string | undefined) => boolean;
  limits?: Partial<EgressLimits>;
}

export interface EgressServer {
  server: Server;
  /** Listens and resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, cuts open tunnels and streams, frees upstream sockets. Idempotent. */
  close(): Promise<void>;
}

export function createEgressServer(options: EgressServerOptions): EgressServer {
  const limits: EgressLimits = { ...DEFAULT_EGRESS_LIMITS, ...options.limits };
  const ctx: EgressContext = {
    // A sandbox presents one credential on every CONNECT and model call: verified once, then
    // remembered until it expires (the store's binding is still checked every time).
    authenticate: createProxyAuthenticator({ ...options, credentials: cacheVerifiedCredentials(options.credentials, { now: options.now ?? Date.now }) }),
    resolver: options.resolver ?? systemResolver,
    metrics: createEgressMetrics(options.registry),
    logger: options.logger,
    limits,
    now: options.now ?? Date.now,
    tunnels: new Map(),
  };
  const upstream = new URL(options.upstreamUrl);
  // Keep-alive to the model API saves a TLS handshake per call; it carries only our real key.
  const agent = upstream.protocol === 'https:'
    ? new HttpsAgent({ keepAlive: true, maxSockets: 512 })
    : new HttpAgent({ keepAlive: true, maxSockets: 512 });
  const model: ModelProxyOptions = { store: options.store, upstream, realKeyFor: options.realKeyFor, agent };
  const self = selfAuthority(options.publicUrl);
  const tunnels = new Set<Duplex>();
  const track = (socket: Duplex) => {
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
  };

  const server = createServer({ maxHeaderSize: limits.maxHeaderBytes, headersTimeout: limits.headersTimeoutMs, requestTimeout: 0 });
  // Socket inactivity on ordinary requests; model streams send pings, so only dead ones trip it.
  server.timeout = limits.modelIdleTimeoutMs;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((error: unknown) => {
      ctx.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'egress request failed');
      sendProblem(res, 'internal');
    });
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => handleConnect(ctx, req, socket, head, track));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
      const selfPath = self ? pathIfSelf(url, self) : null;
      if (selfPath !== null) {
        req.url = selfPath;
        return handleModel(ctx, model, req, res);
      }
      return handleForward(ctx, req, res);
    }
    if (url.startsWith('/v1/')) return handleModel(ctx, model, req, res);
    if (url === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok\n');
    }
    sendProblem(res, 'not_found');
  }

  let closing: Promise<void> | undefined;
  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of tunnels) socket.destroy();
        server.closeAllConnections();
        agent.destroy();
      })),
  };
}

function selfAuthority(publicUrl: string | undefined): { key: string; port: number } | null {
  if (!publicUrl) return null;
  const url = new URL(publicUrl);
  const authority = parseAuthority(url.host, url.protocol === 'https:' ? 443 : 80);
  return authority ? { key: hostKey(authority.host), port: authority.port } : null;
}

function pathIfSelf(url: string, self: { key: string; port: number }): string | null {
  const match = /^http:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (!match) return null;
  const authority = parseAuthority(match[1]!, 80);
  if (!authority || hostKey(authority.host) !== self.key || authority.port !== self.port) return null;
  return match[2] === '' ? '/' : match[2]!;
}
