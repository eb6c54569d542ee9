// SessionListing: which sessions exist, per tenant (GET /sessions) and over every tenant in pages
// (admin API). Reads only; the records are SessionRecords' (session-records.ts).

import type { SessionRecord } from './session-records.js';

/** One page of an all-tenant session listing (admin API). */
export interface SessionPage {
  sessions: SessionRecord[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

/** Most records one listAllSessions page returns: bounds one admin request's store work. */
export const MAX_SESSION_PAGE = 500;

export interface SessionListing {
  /** Sessions of one tenant, newest first. */
  listSessions(tenant: string): Promise<SessionRecord[]>;
  /**
   * Sessions of every tenant in session-id order (byte order; ids are ASCII), at most `limit`
   * (1..MAX_SESSION_PAGE) with ids strictly after `cursor` (null: from the start). Cursor paging
   * by id is stable while sessions come and go: none is returned twice, and one that exists for
   * the whole walk is returned once. For operators (admin API), not for request paths.
   */
  listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage>;
}

/** A listAllSessions limit clamped to 1..MAX_SESSION_PAGE (a bad or huge limit never means "all"). */
export function pageLimit(limit: number): number {
  return Math.min(MAX_SESSION_PAGE, Math.max(1, Math.floor(limit) || 1));
}
