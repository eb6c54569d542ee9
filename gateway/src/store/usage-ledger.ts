// UsageLedger: token usage per tenant and per session, as the egress gateway metered it from
// the model's responses. Lifetime counters; the budget windows (policy/budget.ts) are ledgers
// under their own key. Kept when a session is deleted, so a tenant's sessions here only grow:
// GET /api/usage reads them one bounded page at a time (usagePage), never all at once.

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

export interface UsageReport {
  tenant: TokenUsage;
  sessions: Record<string, TokenUsage>;
}

/** One session's lifetime counters, as a page lists them. */
export interface SessionUsage {
  sessionId: string;
  usage: TokenUsage;
}

/** The tenant's lifetime totals and one page of its sessions' counters. */
export interface UsagePage {
  tenant: TokenUsage;
  /** In session-id order (byte order; ids are ASCII). */
  sessions: SessionUsage[];
  /** Pass back as `after` for the next page: the last id of this page; null when it is the last. */
  next: string | null;
}

/**
 * Most sessions one usage page lists: bounds one request's store work and body (an entry is
 * ~150 bytes of JSON, so ~150 KB). The same bound as a session listing page (session-listing.ts).
 */
export const MAX_USAGE_PAGE = 1000;

/** Page size when the caller names none: the same screenful as a session listing. */
export const DEFAULT_USAGE_PAGE = 100;

export interface UsageLedger {
  /** Adds to the tenant's total and the session's share together (atomic; no increment lost). */
  addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void>;
  /**
   * Every counter of the tenant at once. Its sessions are unbounded: for ledgers known to be
   * small (a budget window's) and operators; a caller-facing read pages with usagePage.
   */
  getUsage(tenant: string): Promise<UsageReport>;
  /**
   * The tenant's totals and at most `limit` (clamped to 1..MAX_USAGE_PAGE) sessions with ids
   * strictly after `after` (null: from the first), read together (one atomic read). Sessions are
   * never removed from the ledger, so a walk from null to a null `next` returns every session
   * that existed when it began exactly once (and those added behind its cursor as it goes).
   * Costs what the page returns plus a logarithm, not the tenant's other sessions.
   */
  usagePage(tenant: string, page: { after: string | null; limit: number }): Promise<UsagePage>;
}

/** A usage page limit clamped to 1..MAX_USAGE_PAGE (a bad or huge limit never means "all"). */
export function usagePageLimit(limit: number): number {
  return Math.min(MAX_USAGE_PAGE, Math.max(1, Math.floor(limit) || 1));
}

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
}
