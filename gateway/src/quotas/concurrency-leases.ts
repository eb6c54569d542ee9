// Concurrency quotas as leases in the store's QuotaCounters: a per-tenant set of holders, each with an
// expiry on the store's clock (one Lua script on Redis), so the count holds across replicas.
// - turns: one lease per streaming request (a random holder id), released in `finally` when the
//   stream ends, renewed by a heartbeat while it runs.
// - sessions: one lease per session holding (or provisioning) a sandbox, holder = session id,
//   renewed whenever the session is used, released when its sandbox is deleted or lost.
// Why leases with a TTL AND an explicit release, rather than a counter decremented in finally:
// a counter leaks forever when a replica dies between increment and decrement (OOM kill, node
// loss, SIGKILL after the drain grace), and one leaked slot per crash eventually locks a tenant
// out. A lease that is not renewed expires on its own; the explicit release keeps the common
// path exact. Neighbours: ingress-quotas.ts (decides when), store/quota-counters.ts (acquire/release).

import { randomUUID } from 'node:crypto';
import type { LeaseKind, QuotaCounters } from '../store/quota-counters.js';
import type { QuotaDecision } from './quota-refusal.js';

/** A limit that admits everyone: renewals of a holder already counted must never be refused. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * Turn lease lifetime in ms. Default 30 000 with a heartbeat every third of it: a stream renews
 * twice before its lease could lapse even if one renewal is slow, and a replica that dies
 * mid-stream frees the tenant's slot within 30 s. Shorter means more store writes per stream;
 * longer means a crash holds a slot longer.
 */
export const TURN_LEASE_TTL_MS = 30_000;

/**
 * Retry-After for concurrency refusals, in seconds. A slot frees when a turn ends or a session is
 * deleted or reaped, which no one can predict; 2 s for turns (turns are short) and 10 s for
 * sessions (sessions free on delete or idle reap) keep well-behaved clients from spinning.
 */
export const TURN_RETRY_AFTER_S = 2;
export const SESSION_RETRY_AFTER_S = 10;

/** A held lease that renews itself until released. release() is idempotent and never throws. */
export class HeldLease {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly store: QuotaCounters,
    readonly tenant: string,
    readonly kind: LeaseKind,
    readonly holder: string,
    private readonly ttlMs: number,
    /** Also run on each heartbeat (renewing the session lease of a streaming session). */
    private readonly onHeartbeat?: () => Promise<void>,
  ) {}

  startHeartbeat(): void {
    this.timer = setInterval(() => void this.renew(), Math.max(1, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async renew(): Promise<void> {
    if (this.released) return;
    // A failed renewal is left to the next one; the TTL covers a store outage shorter than it.
    await this.store.acquireLease(this.tenant, this.kind, this.holder, NO_LIMIT, this.ttlMs).catch(() => undefined);
    await this.onHeartbeat?.().catch(() => undefined);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    // A store that cannot be reached now lets the lease expire instead (that is what the TTL is for).
    await this.store.releaseLease(this.tenant, this.kind, this.holder).catch(() => undefined);
  }
}

export async function acquireTurnLease(
  store: QuotaCounters,
  tenant: string,
  limit: number,
  onHeartbeat?: () => Promise<void>,
): Promise<{ decision: QuotaDecision; lease?: HeldLease }> {
  const holder = randomUUID();
  const got = await store.acquireLease(tenant, 'turns', holder, limit, TURN_LEASE_TTL_MS);
  if (!got.ok) {
    return {
      decision: { ok: false, kind: 'turns', detail: `${got.held} of ${limit} concurrent turns are running; wait for one to end`, retryAfterS: TURN_RETRY_AFTER_S },
    };
  }
  const lease = new HeldLease(store, tenant, 'turns', holder, TURN_LEASE_TTL_MS, onHeartbeat);
  lease.startHeartbeat();
  return { decision: { ok: true }, lease };
}

/** Admits a session that has no sandbox yet (it is about to provision one), within `limit`. */
export async function acquireSessionLease(store: QuotaCounters, tenant: string, sessionId: string, limit: number, ttlMs: number): Promise<QuotaDecision> {
  const got = await store.acquireLease(tenant, 'sessions', sessionId, limit, ttlMs);
  if (got.ok) return { ok: true };
  return {
    ok: false,
    kind: 'sessions',
    detail: `${got.held} of ${limit} sessions hold a sandbox; delete one (DELETE /sessions/{id}) or wait for an idle one to be reaped`,
    retryAfterS: SESSION_RETRY_AFTER_S,
  };
}

/** Renews the lease of a session that holds a sandbox already; never refused. */
export async function renewSessionLease(store: QuotaCounters, tenant: string, sessionId: string, ttlMs: number): Promise<void> {
  await store.acquireLease(tenant, 'sessions', sessionId, NO_LIMIT, ttlMs);
}
