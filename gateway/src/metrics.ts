// The gateway's Prometheus metrics, on a registry of its own (never prom-client's global one, so
// two gateways in one test process do not collide). Labels come from small enums only: no
// tenant, session or sandbox ids (per-tenant usage lives in the store's UsageLedger).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetrics {
  registry: Registry;
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  streamsOpen: Gauge;
  streamEnds: Counter<'outcome'>;
  sandboxesLost: Counter<'reason'>;
  sessionsReaped: Counter;
  quotaRefusals: Counter<'kind'>;
  /** Transcript batches refused because the session's stored transcript reached its byte cap. */
  transcriptRefusals: Counter;
  /** Sessions with a sandbox bound, over the whole deployment (every replica reports the same). */
  sessionsWithSandbox: Gauge;
  /** Sets the sessions gauge's source; startGateway passes the store's bounded count (SandboxBindings). */
  sampleSessionsWith(count: () => Promise<number>): void;
}

/**
 * Least time between two store queries for the sessions gauge, in ms. Default 5 000: below any
 * sane scrape interval, so each scrape normally sees a fresh count, yet several scrapers (an HA
 * Prometheus pair, a curl loop) cost the store at most one query per 5 s per replica.
 */
export const SESSIONS_SAMPLE_MIN_INTERVAL_MS = 5_000;

/**
 * Node.js process metrics under their standard names (process_cpu_seconds_total,
 * nodejs_eventloop_lag_seconds, ...), with no prefix: stock Node.js dashboards and alerts find
 * them, and the Prometheus `job`/`pod` labels already say which process they describe.
 * Idempotent per registry, so the ingress and egress roles of one process share one set.
 */
export function collectProcessMetrics(registry: Registry): void {
  if (registry.getSingleMetric('process_cpu_seconds_total')) return;
  collectDefaultMetrics({ register: registry });
}

export function createGatewayMetrics(registry = new Registry()): GatewayMetrics {
  collectProcessMetrics(registry);
  // Sampled on scrape from the store rather than counted from bind/release events: bindings and
  // releases happen on different replicas (a session bound on A is reaped by B), so per-process
  // event counts only add up across replicas and drift on every restart. The store's count is
  // the truth and costs one O(1) ZCARD per activity shard (SandboxBindings.countBoundSessions).
  let sampler: (() => Promise<number>) | undefined;
  let sampledAt = -Infinity;
  let sampled = 0;
  const sessionsWithSandbox = new Gauge({
    name: 'berth_gateway_sessions',
    help: 'Sessions holding a sandbox, deployment-wide (sampled from the route store on scrape; use max() across replicas, not sum()).',
    registers: [registry],
    async collect() {
      if (!sampler) return;
      if (Date.now() - sampledAt >= SESSIONS_SAMPLE_MIN_INTERVAL_MS) {
        // A store outage leaves the last value in place rather than failing the whole scrape.
        try {
          sampled = await sampler();
          sampledAt = Date.now();
        } catch {
          /* stale value; /readyz reports the outage */
        }
      }
      sessionsWithSandbox.set(sampled);
    },
  });
  return {
    sessionsWithSandbox,
    sampleSessionsWith(count) {
      sampler = count;
      sampledAt = -Infinity;
    },
    registry,
    requestDuration: new Histogram({
      name: 'berth_gateway_request_duration_seconds',
      help: 'Time to the response head (streams: to the first byte), by route pattern and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    streamsOpen: new Gauge({ name: 'berth_gateway_streams_open', help: 'SSE streams currently relayed.', registers: [registry] }),
    streamEnds: new Counter({ name: 'berth_gateway_stream_ends_total', help: 'Relayed streams by how they ended.', labelNames: ['outcome'], registers: [registry] }),
    sandboxesLost: new Counter({ name: 'berth_gateway_sandboxes_lost_total', help: 'Sandboxes found gone and replaced.', labelNames: ['reason'], registers: [registry] }),
    sessionsReaped: new Counter({ name: 'berth_gateway_sessions_reaped_total', help: 'Idle sessions whose sandbox was released.', registers: [registry] }),
    quotaRefusals: new Counter({ name: 'berth_gateway_quota_refusals_total', help: 'Requests refused by a tenant quota.', labelNames: ['kind'], registers: [registry] }),
    transcriptRefusals: new Counter({
      name: 'berth_gateway_transcript_refusals_total',
      help: "Transcript batches not stored because the session's transcript reached BERTH_MAX_TRANSCRIPT_BYTES.",
      registers: [registry],
    }),
  };
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A listener that serves only `GET /metrics` from `registry` (404 otherwise): the egress
 * gateway's scrape target. Its own port rather than a path on the proxy port, because the proxy
 * port is the one sandboxes (and, for Modal, the internet) reach: metrics stay on a port only
 * Prometheus is let through to.
 */
export async function serveMetrics(registry: Registry, port: number, host: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
