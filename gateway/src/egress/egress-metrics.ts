// The egress gateway's Prometheus metrics, registered in an injected prom-client Registry (never
// the global one, so two gateways in one test process never collide). Labels come from small
// closed sets only: no tenant, session, host or address (per-tenant usage lives in the
// store's UsageLedger). Neighbours: every egress handler increments these; nothing here reads them.

import { Counter, Gauge, type Registry } from 'prom-client';

/** Which door a request came through. */
export type EgressKind = 'model' | 'connect' | 'http';
export type Outcome = 'allow' | 'deny' | 'error';

export interface EgressMetrics {
  decision(kind: EgressKind, outcome: Outcome, reason: string): void;
  /** upstream = sandbox → destination; downstream = destination → sandbox. */
  bytes(kind: EgressKind, direction: 'upstream' | 'downstream', count: number): void;
  tokens(type: 'input' | 'output' | 'cache_creation' | 'cache_read', count: number): void;
  tunnelOpened(): void;
  tunnelClosed(): void;
}

/** Closed set of decision reasons; anything else is reported as 'other' to keep cardinality fixed. */
export const DECISION_REASONS = [
  'ok',
  'credential_missing', 'credential_invalid', 'credential_revoked', 'tenant_unknown', 'source_mismatch',
  'invalid_host', 'not_allowlisted', 'port_not_allowed', 'resolution_failed', 'special_address',
  'host_mismatch', 'unsupported_scheme', 'bad_request', 'not_found', 'budget_exhausted', 'no_model_key',
  'store_unavailable', 'upstream_failed', 'upstream_timeout', 'connect_failed', 'body_too_large', 'tunnel_cap',
] as const;

export function createEgressMetrics(registry: Registry): EgressMetrics {
  const decisions = new Counter({
    name: 'berth_egress_decisions_total',
    help: 'Egress requests by door (model, connect, http), outcome and reason',
    labelNames: ['kind', 'outcome', 'reason'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'berth_egress_bytes_total',
    help: 'Bytes relayed by the egress gateway, by door and direction',
    labelNames: ['kind', 'direction'] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'berth_egress_metered_tokens_total',
    help: 'Model tokens metered from upstream responses, by type (all tenants)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const tunnels = new Gauge({
    name: 'berth_egress_open_tunnels',
    help: 'CONNECT tunnels currently open',
    registers: [registry],
  });
  const known = new Set<string>(DECISION_REASONS);
  return {
    decision: (kind, outcome, reason) => decisions.inc({ kind, outcome, reason: known.has(reason) ? reason : 'other' }),
    bytes: (kind, direction, count) => {
      if (count > 0) bytes.inc({ kind, direction }, count);
    },
    tokens: (type, count) => {
      if (count > 0) tokens.inc({ type }, count);
    },
    tunnelOpened: () => tunnels.inc(),
    tunnelClosed: () => tunnels.dec(),
  };
}
