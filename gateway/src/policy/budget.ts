// Token budgets per tenant over fixed windows (periodS, aligned to the Unix epoch), kept in the
// store's UsageLedger so every replica sees the same spend. Tenant policy, shared by both sides: the egress
// model proxy checks before the upstream call and records after (egress/model-proxy.ts), the
// ingress quotas refuse a turn once the window is spent (quotas/token-budget.ts), and GET
// /api/usage shows the tenant the same window through the same checkBudget read
// (ingress/usage-report.ts).
//
// A window is its own ledger: usage is also added under the pseudo-tenant `budgetKey(tenant,
// windowStart)`, a name no tenant can have ('|' is not allowed in tenant names), and the check
// reads that ledger's totals (usageSummary, never its sessions). A closed window is never read
// again, so each add gives the window's ledger an expiry at the window's end plus a grace
// (BUDGET_WINDOW_GRACE_MS): a tenant keeps its current window and those closed less than the
// grace ago, not one per window forever.
// The tenant's lifetime counters get no expiry.
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

/**
 * How long a window's ledger outlives the window, in ms: 5 minutes. The expiry counts on the
 * store's clock from the time of each add, so the grace absorbs what can make a reader still
 * ask for a window that has just closed on another clock: replicas' clocks a little apart, a
 * request whose `now` was taken before the boundary and read after it. Shorter risks a check
 * that reads an expired window as empty (and lets a spent tenant through until the boundary);
 * longer only keeps dead windows around a little more (one small hash and index each).
 */
export const BUDGET_WINDOW_GRACE_MS = 5 * 60_000;

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
  const spent = await store.usageSummary(budgetKey(tenant, window));
  return judgeBudget(budget, totalTokens(spent.tenant), nowMs);
}

/**
 * Records one response's usage: lifetime counters per tenant and session (no expiry), plus the
 * window ledger, which expires BUDGET_WINDOW_GRACE_MS after the window ends.
 */
export async function recordUsage(
  store: UsageLedger,
  tenant: string,
  sessionId: string,
  usage: TokenUsage,
  budget: TokenBudget | undefined,
  nowMs: number,
): Promise<void> {
  await store.addUsage(tenant, sessionId, usage);
  if (!budget) return;
  const window = budgetWindow(budget, nowMs);
  await store.addUsage(budgetKey(tenant, window), LEDGER_SESSION, usage, { ttlMs: window.endsAt + BUDGET_WINDOW_GRACE_MS - nowMs });
}
