// Request rate per tenant: a token bucket held in the store's QuotaCounters (one Lua script on Redis), so
// the limit holds across gateway replicas rather than multiplying by their number. Neighbours:
// ingress-quotas.ts (calls it for every tenant request under /sessions), quota-refusal.ts.
// It does not count concurrency (concurrency-leases.ts) or tokens (token-budget.ts).

import type { QuotaCounters } from '../store/quota-counters.js';
import type { QuotaDecision } from './quota-refusal.js';

/**
 * Bucket capacity = requestsPerMinute: a tenant idle for a minute may spend its whole minute at
 * once (a burst of follow-ups is normal for an agent client), and the long-run rate is still
 * requestsPerMinute. A smaller capacity would refuse ordinary bursts; a larger one would let a
 * tenant exceed its per-minute figure within one minute.
 */
export function rateBucket(requestsPerMinute: number): { capacity: number; refillPerS: number } {
  return { capacity: requestsPerMinute, refillPerS: requestsPerMinute / 60 };
}

/** The 429 decision for an empty bucket whose next token arrives in `retryAfterMs`. */
export function rateRefusal(requestsPerMinute: number, retryAfterMs: number): Extract<QuotaDecision, { ok: false }> {
  return {
    ok: false,
    kind: 'rate',
    detail: `request rate limit of ${requestsPerMinute} per minute reached; retry after the Retry-After seconds`,
    retryAfterS: retryAfterMs / 1000,
  };
}

export async function checkRate(store: QuotaCounters, tenant: string, requestsPerMinute: number): Promise<QuotaDecision> {
  const { capacity, refillPerS } = rateBucket(requestsPerMinute);
  const taken = await store.takeRateToken(tenant, capacity, refillPerS);
  return taken.ok ? { ok: true } : rateRefusal(requestsPerMinute, taken.retryAfterMs);
}
