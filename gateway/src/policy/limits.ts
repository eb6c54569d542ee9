// A tenant's limits as the tenants file states them (tenants/tenants-file.ts validates them).
// Tenant policy, read by the ingress quotas (quotas/) and, for the token budget, by the egress
// model proxy too (policy/budget.ts holds the window arithmetic both use). No logic here.

import type { TokenBudget } from './budget.js';

export interface TenantLimits {
  /** Sessions that may exist with a sandbox at once (including those still provisioning). */
  maxConcurrentSessions?: number;
  /** Turns streaming at once across the tenant's sessions. */
  maxConcurrentTurns?: number;
  /** Requests per minute (a token bucket). */
  requestsPerMinute?: number;
  /** Model tokens (input + output + cache) per period. */
  tokenBudget?: TokenBudget;
}
