// QuotaCounters: the per-tenant counters the ingress quotas (quotas/) decide with: a request-rate
// token bucket and concurrency lease sets. Both count on the store's own clock (Redis TIME), so
// replicas with skewed clocks share one rate and one expiry.

/** One request against a tenant's token bucket (takeRateToken). */
export type RateTake =
  | { ok: true; remaining: number }
  /** Empty: the next token arrives in `retryAfterMs` (at least 1). */
  | { ok: false; retryAfterMs: number };

/** The concurrency a lease set counts: sessions holding a sandbox, or turns streaming. */
export type LeaseKind = 'sessions' | 'turns';

/** `held`: live leases in the set after the call (the refusal's count when not ok). */
export type LeaseResult = { ok: boolean; held: number };

export interface QuotaCounters {
  /**
   * Takes one token from the tenant's bucket (capacity `capacity`, refilled continuously at
   * `refillPerS`), atomically across replicas. A full bucket is the starting state.
   */
  takeRateToken(tenant: string, capacity: number, refillPerS: number): Promise<RateTake>;
  /**
   * Adds (or renews) `holder` in the tenant's lease set of `kind`, expiring `ttlMs` from now on the
   * store's clock. Expired leases are dropped first. A new holder is admitted only while fewer than
   * `limit` live leases exist; a present holder is always renewed (renewal never fails on a full
   * set). Atomic: of N concurrent acquirers on a set with room for k, exactly k are admitted.
   */
  acquireLease(tenant: string, kind: LeaseKind, holder: string, limit: number, ttlMs: number): Promise<LeaseResult>;
  /** Removes `holder` from the set; absent holder is a no-op. */
  releaseLease(tenant: string, kind: LeaseKind, holder: string): Promise<void>;
}
