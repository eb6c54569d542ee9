// UsageLedger in process memory: per tenant, its totals, each session's counters, and the
// session ids kept sorted (inserted in place, once per new session), so a page is a binary
// search plus the page itself. A ledger given a ttlMs (a budget window's) is dropped when a read
// finds it expired, and by a sweep that addUsage runs once the earliest expiry has passed, so
// windows nobody reads again do not pile up either.

import { emptyUsage, type AddUsageOptions, type TokenUsage, type UsageLedger, type UsagePage, type UsageReport, type UsageSummary } from '../usage-ledger.js';
import { pageLimit } from '../session-listing.js';

interface TenantUsage {
  tenant: TokenUsage;
  sessions: Map<string, TokenUsage>;
  /** The keys of `sessions` in byte order. */
  ids: string[];
  /** When the ledger expires (ms on the store's clock); absent: never. */
  expiresAt?: number;
}

export class MemoryUsageLedger implements UsageLedger {
  private readonly usage = new Map<string, TenantUsage>();
  /** Tenants whose ledger has an expiry: what the sweep visits (budget windows alive, not every tenant). */
  private readonly expiring = new Set<string>();
  /** No expiry passes before this (ms on the clock): addUsage sweeps only once it has. */
  private nextSweepAt = Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage, options: AddUsageOptions = {}): Promise<void> {
    const now = this.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    let entry = this.live(tenant, now);
    if (!entry) this.usage.set(tenant, (entry = { tenant: emptyUsage(), sessions: new Map(), ids: [] }));
    if (options.ttlMs !== undefined) {
      entry.expiresAt = now + Math.max(1, Math.ceil(options.ttlMs));
      this.expiring.add(tenant);
      this.nextSweepAt = Math.min(this.nextSweepAt, entry.expiresAt);
    }
    addInto(entry.tenant, usage);
    let session = entry.sessions.get(sessionId);
    if (!session) {
      entry.sessions.set(sessionId, (session = emptyUsage()));
      entry.ids.splice(firstAfter(entry.ids, sessionId), 0, sessionId);
    }
    addInto(session, usage);
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    const entry = this.live(tenant, this.now());
    if (!entry) return { tenant: emptyUsage(), sessions: {} };
    return { tenant: { ...entry.tenant }, sessions: Object.fromEntries([...entry.sessions].map(([id, usage]) => [id, { ...usage }])) };
  }

  async usageSummary(tenant: string): Promise<UsageSummary> {
    const entry = this.live(tenant, this.now());
    return entry ? { tenant: { ...entry.tenant }, sessionCount: entry.ids.length } : { tenant: emptyUsage(), sessionCount: 0 };
  }

  async sessionUsage(tenant: string, sessionId: string): Promise<TokenUsage | null> {
    const session = this.live(tenant, this.now())?.sessions.get(sessionId);
    return session ? { ...session } : null;
  }

  async usagePage(tenant: string, page: { after: string | null; limit: number }): Promise<UsagePage> {
    const entry = this.live(tenant, this.now());
    if (!entry) return { tenant: emptyUsage(), sessions: [], next: null };
    const limit = pageLimit(page.limit);
    const from = page.after === null ? 0 : firstAfter(entry.ids, page.after);
    const ids = entry.ids.slice(from, from + limit);
    return {
      tenant: { ...entry.tenant },
      sessions: ids.map((sessionId) => ({ sessionId, usage: { ...entry.sessions.get(sessionId)! } })),
      next: from + limit < entry.ids.length ? ids[ids.length - 1]! : null,
    };
  }

  /** The tenant's ledger, or undefined when it has none or it has expired (then it is dropped). */
  private live(tenant: string, now: number): TenantUsage | undefined {
    const entry = this.usage.get(tenant);
    if (entry?.expiresAt === undefined || entry.expiresAt > now) return entry;
    this.usage.delete(tenant);
    this.expiring.delete(tenant);
    return undefined;
  }

  /** Drops every expired ledger; the next sweep waits for the earliest expiry left. */
  private sweep(now: number): void {
    this.nextSweepAt = Infinity;
    for (const tenant of this.expiring) {
      const entry = this.live(tenant, now);
      if (entry) this.nextSweepAt = Math.min(this.nextSweepAt, entry.expiresAt!);
    }
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
