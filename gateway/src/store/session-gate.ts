// The SessionGate port: everything an authenticated request on one session asks the store, in
// ONE call (one Redis round trip): the tenant's rate token, the ownership check, the activity
// stamp, the renewal of the session's concurrency lease, and the session's turn state (for the
// session view). The ingress routes enter through it (ingress/routes-sessions.ts requireOwned);
// the turn runner's admission still uses the narrower ports, since a turn costs an agent call
// anyway. Implementations: RedisSessionGate (one Lua script, redis-session-gate.ts) and
// PortsSessionGate below (the same steps over the ports: the in-process store, and Redis Cluster,
// where a tenant's counters and a session's record live in different hash slots).
// Contract: tests/contracts/store/session-gate-contract.ts.

import type { QuotaCounters } from './quota-counters.js';
import type { SessionRecord, SessionRecords } from './session-records.js';
import type { TurnLedger, TurnState } from './turn-ledger.js';

/** Renewals of a holder already counted are never refused (concurrency-leases.ts NO_LIMIT). */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export interface GateRequest {
  sessionId: string;
  tenant: string;
  /** The caller's clock, for the activity stamp (stamps never move backwards). */
  now: number;
  /** The tenant's request-rate bucket, when it has one: one token is taken first, whatever follows. */
  rate?: { capacity: number; refillPerS: number };
  /** The tenant's session-lease lifetime, when it has a session limit: renewed when the session holds a sandbox. */
  sessionLeaseTtlMs?: number;
}

export type GateResult =
  /** The bucket was empty: nothing else was read or written. */
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'absent' }
  /** Another tenant's session: not stamped. */
  | { kind: 'forbidden' }
  /** Stamped (and its lease renewed); `session` is the record after the stamp. */
  | { kind: 'owned'; session: SessionRecord; turn: TurnState };

export interface SessionGate {
  /** Rate token → ownership check → activity stamp → lease renewal → turn state, in that order. */
  enter(request: GateRequest): Promise<GateResult>;
}

/** The gate as a sequence of port calls: one call in process, several round trips on Redis Cluster. */
export class PortsSessionGate implements SessionGate {
  constructor(private readonly ports: { sessions: SessionRecords; quotas: QuotaCounters; ledger: Pick<TurnLedger, 'get'> }) {}

  async enter(request: GateRequest): Promise<GateResult> {
    const { sessions, quotas, ledger } = this.ports;
    if (request.rate) {
      const taken = await quotas.takeRateToken(request.tenant, request.rate.capacity, request.rate.refillPerS);
      if (!taken.ok) return { kind: 'rate_limited', retryAfterMs: taken.retryAfterMs };
    }
    const owned = await sessions.checkAndTouch(request.sessionId, request.tenant, request.now);
    if (owned.kind !== 'owned') return owned;
    const [turn] = await Promise.all([
      ledger.get(request.sessionId),
      request.sessionLeaseTtlMs !== undefined && owned.session.sandbox
        ? quotas.acquireLease(request.tenant, 'sessions', request.sessionId, NO_LIMIT, request.sessionLeaseTtlMs)
        : undefined,
    ]);
    return { kind: 'owned', session: owned.session, turn };
  }
}
