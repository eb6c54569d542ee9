// Token budgets per tenant over fixed windows (periodS, aligned to the Unix epoch), kept in the
// store's UsageLedger so every replica sees the same spend. Tenant policy, shared by both sides: the egress
// model proxy checks before the upstream call and records after (egress/model-proxy.ts), the
// ingress quotas refuse a turn once the window is spent (quotas/token-budget.ts), and GET
// /api/usage shows the tenant the same window through the same checkBudget read
// (ingress/usage-report.ts).
//
// The UsageLedger port has lifetime counters only (addUsage/getUsage per tenant and session), so a
// window is its own ledger: usage is also added under the pseudo-tenant `budgetKey(tenant,
// windowStart)`, a name no tenant can have ('|' is not allowed in tenant names). Old windows are never read again; in Redis they cost one small hash each per tenant and
// window. A TTL'd window counter on the port would be cleaner; this works with the port as it is.
//
// Race, accepted and documented: the check happens before the call and the spend is known only
// after it, so concurrent requests of one tenant can overshoot the budget by what they use
// between check and record. Refusing earlier would need reservations of unknown size.

import type { TokenUsage, UsageLedger } from '../store/usage-ledger.js';

export interface TokenBudget {
  /** Tokens (input + output + cache creation + cache read) per window. */
  tokens: number;
  /** Window length in seconds; windows are fixed, aligned to the Unix epoch. */
  periodS: number;
}

/** What a budget counts: every token the model API bills for, cache reads included. */
export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.outputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens;
}

const LEDGER_SESSION = 'window';

export interface BudgetWindow {
  /** Unix ms. */
  startsAt: number;
  endsAt: number;
}

export type BudgetCheck =
  | { ok: true; usedTokens: number; window: BudgetWindow }
  | { ok: false; usedTokens: number; window: BudgetWindow; retryAfterS: number };

export function budgetWindow(budget: TokenBudget, nowMs: number): BudgetWindow {
  const periodMs = budget.periodS * 1000;
  const startsAt = Math.floor(nowMs / periodMs) * periodMs;
  return { startsAt, endsAt: startsAt + periodMs };
}

/** The ledger's pseudo-tenant; '|' never appears in a tenant name from the tenants file. */
export function budgetKey(tenant: string, window: BudgetWindow): string {
  return `budget|${tenant}|${window.startsAt}`;
}

/** Pure: is `usedTokens` within `budget`? Retry-After points at the next window. */
export function judgeBudget(budget: TokenBudget, usedTokens: number, nowMs: number): BudgetCheck {
  const window = budgetWindow(budget, nowMs);
  if (usedTokens < budget.tokens) return { ok: true, usedTokens, window };
  return { ok: false, usedTokens, window, retryAfterS: Math.max(1, Math.ceil((window.endsAt - nowMs) / 1000)) };
}

export async function checkBudget(store: UsageLedger, tenant: string, budget: TokenBudget, nowMs: number): Promise<BudgetCheck> {
  const window = budgetWindow(budget, nowMs);
  const report = await store.getUsage(budgetKey(tenant, window));
  return judgeBudget(budget, totalTokens(report.tenant), nowMs);
}

/** Records one response's usage: lifetime counters per tenant and session, plus the window ledger. */
export async function recordUsage(
  store: UsageLedger,
  tenant: string,
  sessionId: string,
  usage: TokenUsage,
  budget: TokenBudget | undefined,
  nowMs: number,
): Promise<void> {
  await store.addUsage(tenant, sessionId, usage);
  if (budget) await store.addUsage(budgetKey(tenant, budgetWindow(budget, nowMs)), LEDGER_SESSION, usage);
}
