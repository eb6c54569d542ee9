// A tenant's usage report: lifetime token counters per tenant and per session, plus the current
// budget window when the tenant has a budget. Not wired yet: ingress/routes-ops.ts answers
// `GET /api/usage` with the lifetime counters only. Neighbours: policy/budget.ts (the window
// ledger), the store's UsageLedger (the counters).
// It does not authenticate; the ingress route has already resolved the caller's tenant.

import type { TokenUsage, UsageLedger } from '../store/usage-ledger.js';
import { budgetKey, budgetWindow, totalTokens, type TokenBudget } from '../policy/budget.js';

export interface UsageReportBody {
  tenant: string;
  /** Lifetime totals for the tenant. */
  usage: TokenUsage;
  /** Lifetime totals per session id (sessions deleted since keep their counters here). */
  sessions: Record<string, TokenUsage>;
  budget: null | {
    tokens: number;
    periodS: number;
    usedTokens: number;
    remainingTokens: number;
    /** ISO 8601 UTC. */
    windowStartsAt: string;
    windowEndsAt: string;
  };
}

export async function tenantUsageReport(store: UsageLedger, tenant: string, budget: TokenBudget | undefined, nowMs: number): Promise<UsageReportBody> {
  const report = await store.getUsage(tenant);
  let budgetView: UsageReportBody['budget'] = null;
  if (budget) {
    const window = budgetWindow(budget, nowMs);
    const used = totalTokens((await store.getUsage(budgetKey(tenant, window))).tenant);
    budgetView = {
      tokens: budget.tokens,
      periodS: budget.periodS,
      usedTokens: used,
      remainingTokens: Math.max(0, budget.tokens - used),
      windowStartsAt: new Date(window.startsAt).toISOString(),
      windowEndsAt: new Date(window.endsAt).toISOString(),
    };
  }
  return { tenant, usage: report.tenant, sessions: report.sessions, budget: budgetView };
}
