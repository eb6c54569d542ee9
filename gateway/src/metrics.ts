// The gateway's Prometheus metrics, on a registry of its own (never prom-client's global one, so
// two gateways in one test process do not collide). Labels come from small enums only: no
// tenant, session or sandbox ids (per-tenant usage lives in the RouteStore).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface GatewayMetrics {
  registry: Registry;
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  streamsOpen: Gauge;
  streamEnds: Counter<'outcome'>;
  sandboxesLost: Counter<'reason'>;
  sessionsReaped: Counter;
  quotaRefusals: Counter<'kind'>;
}

export function createGatewayMetrics(registry = new Registry()): GatewayMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'berth_gateway_process_' });
  return {
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
  };
}
