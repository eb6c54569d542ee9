// SessionListing: which sessions exist, one bounded page at a time: per tenant (GET /sessions,
// GET /admin/sessions?tenant=) newest first, and over every tenant in id order (admin API). Both
// are served from indexes (the tenant's, the id index), so a page costs what it returns plus a
// logarithm, never the rest of the sessions. Reads only; the records are SessionRecords'
// (session-records.ts). The wire form of a cursor is the ingress's (ingress/listing-cursor.ts).

import type { SessionRecord } from './session-records.js';

/** One page of an all-tenant session listing (admin API). */
export interface SessionPage {
  sessions: SessionRecord[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

/**
 * A position in a tenant's listing: the (createdAt, id) of the last session a page returned. The
 * order is createdAt descending, ties by id descending (byte order), so the key of a session
 * deleted since still places the next page exactly.
 */
export interface TenantListingKey {
  createdAt: number;
  id: string;
}

/** One page of a tenant's session listing. */
export interface TenantSessionPage {
  sessions: SessionRecord[];
  /** Pass back as `after` for the next page; null when this page is the last. */
  next: TenantListingKey | null;
}

/**
 * Most records one page returns: bounds one request's store work and body (a session view is
 * ~300 bytes, so ~300 KB). Raising it makes every page request that asks for it that much longer.
 */
export const MAX_SESSION_PAGE = 1000;

/** Page size when the caller names none: a screenful for the CLI, one store read per index. */
export const DEFAULT_SESSION_PAGE = 100;

export interface SessionListing {
  /**
   * One page of one tenant's sessions, newest first: at most `limit` (1..MAX_SESSION_PAGE,
   * default DEFAULT_SESSION_PAGE) strictly after `after` (null or absent: from the newest). Paging
   * is stable while sessions come and go: none is returned twice in one walk, and one that
   * exists for the whole walk is returned exactly once. A page may hold fewer than `limit`
   * sessions (index entries whose record is gone are dropped as they are read); only a null
   * `next` means the end.
   */
  listSessions(tenant: string, page?: { after: TenantListingKey | null; limit: number }): Promise<TenantSessionPage>;
  /**
   * Sessions of every tenant in session-id order (byte order; ids are ASCII), at most `limit`
   * (1..MAX_SESSION_PAGE) with ids strictly after `cursor` (null: from the start). Cursor paging
   * by id is stable while sessions come and go: none is returned twice, and one that exists for
   * the whole walk is returned once. For operators (admin API), not for request paths.
   */
  listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage>;
}

/** A page limit clamped to 1..MAX_SESSION_PAGE (a bad or huge limit never means "all"). */
export function pageLimit(limit: number): number {
  return Math.min(MAX_SESSION_PAGE, Math.max(1, Math.floor(limit) || 1));
}

/** Newest-first order of a tenant listing: negative when `a` is listed before `b`. */
export function compareListingKeys(a: TenantListingKey, b: TenantListingKey): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
