// SessionListing in process memory: pages read from the record map's sorted indexes
// (memory-session-index.ts), each id checked with live() so an expired never-bound record is
// dropped as the walk meets it. Nothing outside the page (and the expired records it passes)
// is read.

import { pageLimit, DEFAULT_SESSION_PAGE, type SessionListing, type SessionPage, type TenantListingKey, type TenantSessionPage } from '../session-listing.js';
import type { SessionRecord } from '../session-records.js';
import { live, type MemorySessionTable } from './memory-session-table.js';

export class MemorySessionListing implements SessionListing {
  constructor(private readonly table: MemorySessionTable) {}

  async listSessions(tenant: string, page: { after: TenantListingKey | null; limit: number } = { after: null, limit: DEFAULT_SESSION_PAGE }): Promise<TenantSessionPage> {
    const limit = pageLimit(page.limit);
    // One more than the page: whether another page follows, without a page that turns out empty.
    const ids = this.table.records.tenantPage(tenant, page.after, limit + 1, this.isLive);
    const sessions = ids.slice(0, limit).map((id) => this.copy(id));
    const last = sessions[sessions.length - 1];
    return { sessions, next: ids.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage> {
    const limit = pageLimit(page.limit);
    const ids = this.table.records.idPage(page.cursor, limit + 1, this.isLive);
    const sessions = ids.slice(0, limit).map((id) => this.copy(id));
    return { sessions, nextCursor: ids.length > limit ? sessions[sessions.length - 1]!.id : null };
  }

  private readonly isLive = (id: string): boolean => live(this.table, id) !== undefined;

  private copy(id: string): SessionRecord {
    return structuredClone(this.table.records.get(id)!);
  }
}
