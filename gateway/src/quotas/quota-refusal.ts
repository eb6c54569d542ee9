// What a quota check answers, and how a refusal becomes the caller's 429: one BerthError with
// the protocol code (rate_limited / quota_exceeded / budget_exhausted) and a Retry-After, plus one
// increment of berth_gateway_quota_refusals_total by kind. The checks live beside this file
// (rate-limit.ts, concurrency-leases.ts, token-budget.ts); ingress-quotas.ts calls them in order.

import { BerthError, type ProblemCode } from '@berth/protocol';
import type { GatewayMetrics } from '../metrics.js';

/** The metric label: a closed set, one per limit in TenantLimits, plus the ingress's open-stream cap. */
export type QuotaKind = 'rate' | 'sessions' | 'turns' | 'budget' | 'streams';

export type QuotaDecision = { ok: true } | { ok: false; kind: QuotaKind; detail: string; retryAfterS: number };

const CODES: Record<QuotaKind, ProblemCode> = {
  rate: 'rate_limited',
  sessions: 'quota_exceeded',
  turns: 'quota_exceeded',
  budget: 'budget_exhausted',
  streams: 'quota_exceeded',
};

/** Throws the refusal as a problem (the error middleware answers 429 with Retry-After). */
export function refuse(decision: Extract<QuotaDecision, { ok: false }>, metrics: GatewayMetrics): never {
  metrics.quotaRefusals.inc({ kind: decision.kind });
  throw new BerthError(CODES[decision.kind], decision.detail, { retryAfterS: Math.max(1, Math.ceil(decision.retryAfterS)) });
}
