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
export async function checkRate(store: QuotaCounters, tenant: string, requestsPerMinute: number): Promise<QuotaDecision> {
  const taken = await store.takeRateToken(tenant, requestsPerMinute, requestsPerMinute / 60);
  if (taken.ok) return { ok: true };
  return {
    ok: false,
    kind: 'rate',
    detail: `request rate limit of ${requestsPerMinute} per minute reached; retry after the Retry-After seconds`,
    retryAfterS: taken.retryAfterMs / 1000,
  };
}
