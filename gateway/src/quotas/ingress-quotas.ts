// IngressQuotas: the tenant limits (tenants/tenant.ts TenantLimits) as the ingress routes apply
// them. Each method is a no-op for a limit the tenant does not have, so an unlimited tenant pays
// no store round trip. Refusals throw the 429 problem (quota-refusal.ts) and count the metric.
// A request on an existing session does not call these one by one: gateLimits() hands the rate
// and the session lease to the store's SessionGate, which applies them in the same round trip as
// the ownership check (store/session-gate.ts), and refuseRate() answers its refusal.
// Order in the message route: rate (every request) → budget → session slot → turn slot.
// Neighbours: rate-limit.ts, token-budget.ts, concurrency-leases.ts; routes-sessions.ts calls it.
// It does not meter tokens (the egress gateway does) nor reap sessions (sessions/reaper.ts).

import type { GatewayMetrics } from '../metrics.js';
import type { GateRequest } from '../store/session-gate.js';
import type { SessionRecord } from '../store/session-records.js';
import type { Store } from '../store/store.js';
import type { Tenant } from '../tenants/tenant.js';
import { acquireSessionLease, acquireTurnLease, renewSessionLease, type HeldLease } from './concurrency-leases.js';
import { refuse } from './quota-refusal.js';
import { checkRate, rateBucket, rateRefusal } from './rate-limit.js';
import { checkTokenBudget } from './token-budget.js';

export interface IngressQuotasOptions {
  /** Rate bucket and leases (quotas); the usage ledger for the token budget. */
  store: Pick<Store, 'quotas' | 'usage'>;
  metrics: GatewayMetrics;
  now: () => number;
  /**
   * Session lease lifetime in ms. Set by startGateway to idle timeout + reaper interval + 5 s:
   * a session's lease is renewed on every use, so it lapses only after the reaper has had its
   * chance to release the idle sandbox (the reaper does not release leases itself). Shorter would
   * let a tenant exceed its limit with sandboxes still bound; the cost of longer is a reaped
   * session counting for up to one reaper interval + 5 s after its sandbox went.
   */
  sessionLeaseTtlMs: number;
}

/** A turn's admission: release() in `finally` when the stream ends, however it ends. */
export interface TurnSlot {
  release(): Promise<void>;
}

const NOTHING_HELD: TurnSlot = { release: async () => undefined };

export class IngressQuotas {
  constructor(private readonly options: IngressQuotasOptions) {}

  /** Every tenant request under /sessions takes one token from the tenant's bucket. */
  async checkRequest(tenant: Tenant): Promise<void> {
    const rpm = tenant.limits.requestsPerMinute;
    if (rpm === undefined) return;
    const decision = await checkRate(this.options.store.quotas, tenant.name, rpm);
    if (!decision.ok) refuse(decision, this.options.metrics);
  }

  /** The tenant's limits a SessionGate applies with the ownership check (none for an unlimited tenant). */
  gateLimits(tenant: Tenant): Pick<GateRequest, 'rate' | 'sessionLeaseTtlMs'> {
    const rpm = tenant.limits.requestsPerMinute;
    return {
      ...(rpm !== undefined ? { rate: rateBucket(rpm) } : {}),
      ...(tenant.limits.maxConcurrentSessions !== undefined ? { sessionLeaseTtlMs: this.options.sessionLeaseTtlMs } : {}),
    };
  }

  /** Answers a SessionGate's rate refusal: the 429 checkRequest would have thrown. */
  refuseRate(tenant: Tenant, retryAfterMs: number): never {
    refuse(rateRefusal(tenant.limits.requestsPerMinute ?? 0, retryAfterMs), this.options.metrics);
  }

  /** Before a turn: the tenant's token budget for the current window is not spent. */
  async checkBudget(tenant: Tenant): Promise<void> {
    const budget = tenant.limits.tokenBudget;
    if (!budget) return;
    const decision = await checkTokenBudget(this.options.store.usage, tenant.name, budget, this.options.now());
    if (!decision.ok) refuse(decision, this.options.metrics);
  }

  /**
   * Admits the session to hold a sandbox: a session with one bound renews its lease (never
   * refused: it holds the sandbox already); one without takes a slot within maxConcurrentSessions.
   * Returns true when a new slot was taken (the caller gives it back if provisioning fails).
   */
  async admitSession(tenant: Tenant, session: SessionRecord): Promise<boolean> {
    const limit = tenant.limits.maxConcurrentSessions;
    if (limit === undefined) return false;
    const { store, sessionLeaseTtlMs } = this.options;
    if (session.sandbox) {
      await renewSessionLease(store.quotas, tenant.name, session.id, sessionLeaseTtlMs);
      return false;
    }
    const decision = await acquireSessionLease(store.quotas, tenant.name, session.id, limit, sessionLeaseTtlMs);
    if (!decision.ok) refuse(decision, this.options.metrics);
    return true;
  }

  /** The session's sandbox is gone (deleted, lost mid-turn, provisioning failed): free its slot. */
  async sessionReleased(tenant: Tenant, sessionId: string): Promise<void> {
    if (tenant.limits.maxConcurrentSessions === undefined) return;
    await this.options.store.quotas.releaseLease(tenant.name, 'sessions', sessionId).catch(() => undefined);
  }

  /** A session was used without a turn (GET, resume): keep its slot as long as the reaper keeps its sandbox. */
  async sessionTouched(tenant: Tenant, session: SessionRecord): Promise<void> {
    if (tenant.limits.maxConcurrentSessions === undefined || !session.sandbox) return;
    await renewSessionLease(this.options.store.quotas, tenant.name, session.id, this.options.sessionLeaseTtlMs);
  }

  /** Takes a turn slot within maxConcurrentTurns, renewed (with the session's slot) while it runs. */
  async admitTurn(tenant: Tenant, sessionId: string): Promise<TurnSlot> {
    const limit = tenant.limits.maxConcurrentTurns;
    const { store, sessionLeaseTtlMs } = this.options;
    // A turn longer than the session lease's TTL must not let the session's slot lapse.
    const renewSession = tenant.limits.maxConcurrentSessions === undefined
      ? undefined
      : () => renewSessionLease(store.quotas, tenant.name, sessionId, sessionLeaseTtlMs);
    if (limit === undefined) return renewSession ? sessionHeartbeat(renewSession, sessionLeaseTtlMs) : NOTHING_HELD;
    const { decision, lease } = await acquireTurnLease(store.quotas, tenant.name, limit, renewSession);
    if (!decision.ok) refuse(decision, this.options.metrics);
    return lease as HeldLease;
  }
}

/** Renews the session's slot while a turn runs, for tenants with a session limit but no turn limit. */
function sessionHeartbeat(renew: () => Promise<void>, ttlMs: number): TurnSlot {
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(1, Math.floor(ttlMs / 3)));
  timer.unref();
  return { release: async () => clearInterval(timer) };
}
