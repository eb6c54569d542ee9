// The body of GET /api/usage (routes-ops.ts): the tenant's lifetime token counters, one page of
// its sessions' counters, and, when the tenant has a token budget, the current budget window.
// It sits in ingress/ because it is one ingress route's wire shape (ISO 8601 times, the opaque
// cursor of listing-cursor.ts) and only the ingress serves it; what it shows is decided
// elsewhere: the window and its spend come from policy/budget.ts's checkBudget, the very read
// the ingress quotas (quotas/token-budget.ts) and the egress model proxy refuse on, so with the
// same budget and clock the report shows the window they enforce. The counters are the store's
// UsageLedger. It does not authenticate (the route has resolved the caller's tenant) nor parse
// query parameters (the route does, request-input.ts and listing-cursor.ts).
// The page and the window are two reads: a response metered between them shows in one only.

import { checkBudget, type TokenBudget } from '../policy/budget.js';
import { DEFAULT_USAGE_PAGE, type TokenUsage, type UsageLedger, type UsagePage } from '../store/usage-ledger.js';
import { encodeUsageCursor, usageCursorParam } from './listing-cursor.js';
import { pageLimitParam } from './request-input.js';

export interface BudgetView {
  tokens: number;
  periodS: number;
  /** Tokens metered in the current window (every kind a budget counts: policy/budget.ts totalTokens). */
  usedTokens: number;
  /** tokens − usedTokens, never below 0 (concurrent turns can overshoot a budget). */
  remainingTokens: number;
  /** ISO 8601 UTC. Windows are fixed, aligned to the Unix epoch. */
  windowStartsAt: string;
  windowEndsAt: string;
}

export interface UsageReportBody {
  tenant: string;
  /** Lifetime totals for the tenant. */
  total: TokenUsage;
  /** Lifetime totals per session id, one page of them (sessions deleted since keep their counters here). */
  sessions: Record<string, TokenUsage>;
  /** Opaque; pass as ?cursor for the next page of sessions. null on the last page. */
  nextCursor: string | null;
  /** null when the tenant has no token budget. */
  budget: BudgetView | null;
}

/** One page of a tenant's usage on the wire: totals, the page's sessions by id, the opaque next cursor. */
export interface UsagePageView {
  total: TokenUsage;
  sessions: Record<string, TokenUsage>;
  nextCursor: string | null;
}

/** `?limit` and `?cursor` of a usage page (GET /api/usage, GET /admin/usage?tenant=); bad ones are 400s. */
export function usagePageQuery(query: { limit?: unknown; cursor?: unknown }): { after: string | null; limit: number } {
  return { after: usageCursorParam(query.cursor), limit: pageLimitParam(query.limit) };
}

export function usagePageView(page: UsagePage): UsagePageView {
  return {
    total: page.tenant,
    sessions: Object.fromEntries(page.sessions.map((s) => [s.sessionId, s.usage])),
    nextCursor: page.next === null ? null : encodeUsageCursor(page.next),
  };
}

export async function tenantUsageReport(
  store: UsageLedger,
  tenant: string,
  budget: TokenBudget | undefined,
  nowMs: number,
  page: { after: string | null; limit: number } = { after: null, limit: DEFAULT_USAGE_PAGE },
): Promise<UsageReportBody> {
  const usage = await store.usagePage(tenant, page);
  let budgetView: BudgetView | null = null;
  if (budget) {
    const { usedTokens, window } = await checkBudget(store, tenant, budget, nowMs);
    budgetView = {
      tokens: budget.tokens,
      periodS: budget.periodS,
      usedTokens,
      remainingTokens: Math.max(0, budget.tokens - usedTokens),
      windowStartsAt: new Date(window.startsAt).toISOString(),
      windowEndsAt: new Date(window.endsAt).toISOString(),
    };
  }
  return { tenant, ...usagePageView(usage), budget: budgetView };
}
