// UsageLedger in process memory: per tenant, its totals, each session's counters, and the
// session ids kept sorted (inserted in place, once per new session), so a page is a binary
// search plus the page itself.

import { emptyUsage, usagePageLimit, type TokenUsage, type UsageLedger, type UsagePage, type UsageReport } from '../usage-ledger.js';

interface TenantUsage {
  tenant: TokenUsage;
  sessions: Map<string, TokenUsage>;
  /** The keys of `sessions` in byte order. */
  ids: string[];
}

export class MemoryUsageLedger implements UsageLedger {
  private readonly usage = new Map<string, TenantUsage>();

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void> {
    let entry = this.usage.get(tenant);
    if (!entry) this.usage.set(tenant, (entry = { tenant: emptyUsage(), sessions: new Map(), ids: [] }));
    addInto(entry.tenant, usage);
    let session = entry.sessions.get(sessionId);
    if (!session) {
      entry.sessions.set(sessionId, (session = emptyUsage()));
      entry.ids.splice(firstAfter(entry.ids, sessionId), 0, sessionId);
    }
    addInto(session, usage);
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    const entry = this.usage.get(tenant);
    if (!entry) return { tenant: emptyUsage(), sessions: {} };
    return { tenant: { ...entry.tenant }, sessions: Object.fromEntries([...entry.sessions].map(([id, usage]) => [id, { ...usage }])) };
  }

  async usagePage(tenant: string, page: { after: string | null; limit: number }): Promise<UsagePage> {
    const entry = this.usage.get(tenant);
    if (!entry) return { tenant: emptyUsage(), sessions: [], next: null };
    const limit = usagePageLimit(page.limit);
    const from = page.after === null ? 0 : firstAfter(entry.ids, page.after);
    const ids = entry.ids.slice(from, from + limit);
    return {
      tenant: { ...entry.tenant },
      sessions: ids.map((sessionId) => ({ sessionId, usage: { ...entry.sessions.get(sessionId)! } })),
      next: from + limit < entry.ids.length ? ids[ids.length - 1]! : null,
    };
  }
}

/** Index of the first id in sorted `ids` greater than `id` (byte order; ids are ASCII). */
function firstAfter(ids: string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function addInto(target: TokenUsage, usage: TokenUsage): void {
  target.inputTokens += usage.inputTokens;
  target.outputTokens += usage.outputTokens;
  target.cacheCreationInputTokens += usage.cacheCreationInputTokens;
  target.cacheReadInputTokens += usage.cacheReadInputTokens;
}
