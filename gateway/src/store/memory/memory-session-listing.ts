// SessionListing in process memory: a filter and sort over the record table.

import { pageLimit, type SessionListing, type SessionPage } from '../session-listing.js';
import type { SessionRecord } from '../session-records.js';
import { sweep, type MemorySessionTable } from './memory-session-table.js';

export class MemorySessionListing implements SessionListing {
  constructor(private readonly table: MemorySessionTable) {}

  async listSessions(tenant: string): Promise<SessionRecord[]> {
    sweep(this.table);
    return [...this.table.records.values()]
      .filter((s) => s.tenant === tenant)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((s) => structuredClone(s));
  }

  async listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage> {
    sweep(this.table);
    const limit = pageLimit(page.limit);
    const ids = [...this.table.records.keys()].filter((id) => page.cursor === null || id > page.cursor).sort();
    const sessions = ids.slice(0, limit).map((id) => structuredClone(this.table.records.get(id)!));
    return { sessions, nextCursor: ids.length > limit ? sessions[sessions.length - 1]!.id : null };
  }
}
