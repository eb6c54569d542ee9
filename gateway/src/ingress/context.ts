// What the ingress routes share: the stores, the backend, the tenants, the clock. Built once by
// startGateway and passed to each route module, so routes hold no globals.

import type { SandboxBackend } from '@berth/orchestrator';
import type { Authenticator } from '../auth/authenticator.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { SessionService } from '../sessions/session-service.js';
import type { ActiveTurn, TurnRunner } from '../sessions/turn-runner.js';
import type { IngressQuotas } from '../quotas/ingress-quotas.js';
import type { EventLog } from '../store/event-log.js';
import type { SessionGate } from '../store/session-gate.js';
import type { Store } from '../store/store.js';
import type { TurnLedger } from '../store/turn-ledger.js';
import type { TenantDirectory } from '../tenants/tenant.js';

export interface IngressContext {
  store: Store;
  /** Each session's event log: every caller stream reads it. */
  events: EventLog;
  /** Turn status and relay leases. */
  ledger: TurnLedger;
  /** Rate token, ownership, activity stamp, lease renewal and turn state of one request: one store call. */
  gate: SessionGate;
  backend: SandboxBackend;
  sessions: SessionService;
  /** Runs a caller's message as a turn; the message route maps its outcome to HTTP. */
  turns: TurnRunner;
  authenticator: Authenticator;
  tenants: () => TenantDirectory;
  log: Logger;
  metrics: GatewayMetrics;
  now: () => number;
  maxBodyBytes: number;
  /** Tenant limits (rate, budget, concurrent sessions and turns), enforced by the session routes. */
  quotas: IngressQuotas;
  /**
   * Turns admitted and not yet ended (provisioning or streaming), so a drain waits for them and
   * then ends each with one terminal frame (or a 503 draining when its stream had not started).
   */
  streams: Set<ActiveTurn>;
  /** True once shutdown began: /readyz answers 503 and new turns are refused. */
  draining: () => boolean;
}
