// UsageLedger: token usage per tenant and per session, as the egress gateway metered it from
// the model's responses. Lifetime counters; the budget windows (egress/budget.ts) are ledgers
// under their own key. Kept when a session is deleted.

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

export interface UsageLedger {
  /** Adds to the tenant's total and the session's share together (atomic; no increment lost). */
  addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void>;
  getUsage(tenant: string): Promise<UsageReport>;
}

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
}
