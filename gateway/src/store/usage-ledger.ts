// UsageLedger: token usage per tenant and per session, as the egress gateway metered it from
// the model's responses. Lifetime counters; the budget windows (policy/budget.ts) are ledgers
// under their own key, given an expiry (addUsage's ttlMs) since nothing reads a closed window.
// Kept when a session is deleted, so a tenant's sessions here only grow: readers take what they
// need and no more — one page (usagePage: GET /api/usage, GET /admin/usage?tenant=), the totals
// and a session count (usageSummary: GET /admin/usage, the budget check), one session's
// counters (sessionUsage: GET /admin/sessions/{id}); getUsage reads everything.

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

/** The tenant's lifetime totals and how many sessions it holds counters for. */
export interface UsageSummary {
  tenant: TokenUsage;
  sessionCount: number;
}

export interface AddUsageOptions {
  /**
   * Expire the whole ledger of the tenant (totals, every session's counters, the session index)
   * this many ms after this add; each add that passes it sets the expiry anew, one without it
   * leaves the expiry as it is. For ledgers nobody reads once they are old (a budget window's);
   * never for lifetime counters. A positive integer (smaller values are taken as 1).
   */
  ttlMs?: number;
}

/**
 * Most sessions one usage page lists, and the page size when the caller names none: the session
 * listing's bounds (session-listing.ts; a usage entry, ~150 bytes of JSON, is half a session view).
 */
export { DEFAULT_SESSION_PAGE as DEFAULT_USAGE_PAGE, MAX_SESSION_PAGE as MAX_USAGE_PAGE } from './session-listing.js';

export interface UsageLedger {
  /**
   * Adds to the tenant's total and the session's share together (atomic; no increment lost), and
   * with `ttlMs` sets when the tenant's ledger expires, in the same atomic step.
   */
  addUsage(tenant: string, sessionId: string, usage: TokenUsage, options?: AddUsageOptions): Promise<void>;
  /**
   * Every counter of the tenant at once. Its sessions are unbounded: for tests and tools only; a
   * route reads usagePage, usageSummary or sessionUsage.
   */
  getUsage(tenant: string): Promise<UsageReport>;
  /**
   * The tenant's totals and its number of sessions, read together, without reading any session's
   * counters: costs the same for one session or a million (on Redis, once a ledger written before
   * the session index existed has been indexed, which its first page or summary read does once).
   */
  usageSummary(tenant: string): Promise<UsageSummary>;
  /**
   * One session's counters in the tenant's ledger; null when it holds none for that session.
   * Costs the same whatever else the tenant holds.
   */
  sessionUsage(tenant: string, sessionId: string): Promise<TokenUsage | null>;
  /**
   * The tenant's totals and at most `limit` (clamped by session-listing.ts's pageLimit) sessions
   * with ids strictly after `after` (null: from the first), read together (one atomic read). Sessions are
   * never removed from the ledger, so a walk from null to a null `next` returns every session
   * that existed when it began exactly once (and those added behind its cursor as it goes).
   * Costs what the page returns plus a logarithm, not the tenant's other sessions.
   */
  usagePage(tenant: string, page: { after: string | null; limit: number }): Promise<UsagePage>;
}


export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
}
