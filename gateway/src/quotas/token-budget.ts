// Token budget per tenant, checked at the ingress before a turn starts, so an over-budget tenant
// gets a 429 up front instead of a stream whose model calls the egress gateway then refuses. The
// budget logic (windows, ledger, judgement) is tenant policy (policy/budget.ts), which the egress
// gateway uses too, so both doors agree on one spend; this file only turns its answer into a QuotaDecision.
// Like the egress check, it can overshoot by what turns already running spend.

import { checkBudget } from '../policy/budget.js';
import type { UsageLedger } from '../store/usage-ledger.js';
import type { TenantLimits } from '../tenants/tenant.js';
import type { QuotaDecision } from './quota-refusal.js';

export async function checkTokenBudget(
  store: UsageLedger,
  tenant: string,
  budget: NonNullable<TenantLimits['tokenBudget']>,
  nowMs: number,
): Promise<QuotaDecision> {
  const check = await checkBudget(store, tenant, budget, nowMs);
  if (check.ok) return { ok: true };
  return {
    ok: false,
    kind: 'budget',
    detail: `token budget of ${budget.tokens} per ${budget.periodS} s is spent (${check.usedTokens} used); it renews at ${new Date(check.window.endsAt).toISOString()}`,
    retryAfterS: check.retryAfterS,
  };
}
