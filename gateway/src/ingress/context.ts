// What the ingress routes share: the stores, the backend, the tenants, the clock. Built once by
// startGateway and passed to each route module, so routes hold no globals.

import type { SandboxBackend } from '@berth/orchestrator';
import type { Authenticator } from '../auth/authenticator.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { SessionService } from '../sessions/session-service.js';
import type { IngressQuotas } from '../quotas/ingress-quotas.js';
import type { RouteStore } from '../store/route-store.js';
import type { TenantDirectory } from '../tenants/tenant.js';

export interface IngressContext {
  store: RouteStore;
  backend: SandboxBackend;
  sessions: SessionService;
  authenticator: Authenticator;
  tenants: () => TenantDirectory;
  log: Logger;
  metrics: GatewayMetrics;
  now: () => number;
  maxBodyBytes: number;
  /** Tenant limits (rate, budget, concurrent sessions and turns), enforced by the session routes. */
  quotas: IngressQuotas;
  /** Streams being relayed now, so a drain can end each with one terminal frame. */
  streams: Set<ActiveStream>;
  /** True once shutdown began: /readyz answers 503 and new turns are refused. */
  draining: () => boolean;
}

export interface ActiveStream {
  /** Ends the caller's stream with one `event: error` (reason given), then aborts the turn. */
  cut(reason: string): void;
}
