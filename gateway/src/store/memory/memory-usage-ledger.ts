// UsageLedger in process memory: one report per tenant, summed in place.

import { emptyUsage, type TokenUsage, type UsageLedger, type UsageReport } from '../usage-ledger.js';

export class MemoryUsageLedger implements UsageLedger {
  private readonly usage = new Map<string, UsageReport>();

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void> {
    const report = this.usage.get(tenant) ?? { tenant: emptyUsage(), sessions: {} };
    addInto(report.tenant, usage);
    addInto((report.sessions[sessionId] ??= emptyUsage()), usage);
    this.usage.set(tenant, report);
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    return structuredClone(this.usage.get(tenant) ?? { tenant: emptyUsage(), sessions: {} });
  }
}

function addInto(target: TokenUsage, usage: TokenUsage): void {
  target.inputTokens += usage.inputTokens;
  target.outputTokens += usage.outputTokens;
  target.cacheCreationInputTokens += usage.cacheCreationInputTokens;
  target.cacheReadInputTokens += usage.cacheReadInputTokens;
}
