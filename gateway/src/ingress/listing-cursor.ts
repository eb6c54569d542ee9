// The wire form of listing cursors (GET /sessions, GET /admin/sessions, GET /api/usage): opaque
// to callers, base64url of a tagged key, and checked on the way back in (security control: a
// cursor is caller input, bounded and validated like any other; a bad one is a 400, never a store
// read). The tag keeps a cursor from one listing out of the others. The store's keys behind them:
// store/session-listing.ts, store/usage-ledger.ts.

import { BerthError, isValidSessionId } from '@berth/protocol';
import type { TenantListingKey } from '../store/session-listing.js';

/** Longest cursor accepted, in characters: a tagged key is at most ~90 characters of base64url. */
const MAX_CURSOR_CHARS = 128;

/** A tenant listing's cursor: `t.<createdAt>.<id>`. */
export function encodeTenantCursor(key: TenantListingKey): string {
  return Buffer.from(`t.${key.createdAt}.${key.id}`).toString('base64url');
}

/** The admin all-tenant listing's cursor: `i.<id>`. */
export function encodeIdCursor(id: string): string {
  return Buffer.from(`i.${id}`).toString('base64url');
}

/** ?cursor of a tenant listing: absent → null (from the newest); not one it returned → 400. */
export function tenantCursorParam(raw: unknown): TenantListingKey | null {
  if (raw === undefined) return null;
  const match = /^t\.(\d{1,16})\.(.+)$/s.exec(decode(raw));
  const createdAt = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(createdAt) || !isValidSessionId(match[2])) throw badCursor();
  return { createdAt, id: match[2]! };
}

/** ?cursor of the all-tenant listing: absent → null (from the first id); not one it returned → 400. */
export function idCursorParam(raw: unknown): string | null {
  if (raw === undefined) return null;
  const match = /^i\.(.+)$/s.exec(decode(raw));
  if (!match || !isValidSessionId(match[1])) throw badCursor();
  return match[1]!;
}

/** A usage listing's cursor (GET /api/usage): `u.<id>`, the last session id of the page. */
export function encodeUsageCursor(sessionId: string): string {
  return Buffer.from(`u.${sessionId}`).toString('base64url');
}

/** ?cursor of a usage listing: absent → null (from the first session); not one it returned → 400. */
export function usageCursorParam(raw: unknown): string | null {
  if (raw === undefined) return null;
  const match = /^u\.(.+)$/s.exec(decode(raw));
  if (!match || !isValidSessionId(match[1])) throw badCursor();
  return match[1]!;
}

/** The cursor's text; only canonical base64url of a bounded length gets this far. */
function decode(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(raw)) throw badCursor();
  const text = Buffer.from(raw, 'base64url').toString('latin1');
  // Buffer decoding is lenient (stray bits, padding); re-encoding rejects any non-canonical form.
  if (Buffer.from(text, 'latin1').toString('base64url') !== raw) throw badCursor();
  return text;
}

function badCursor(): BerthError {
  return new BerthError('invalid_body', '?cursor must be a nextCursor this listing returned; start again without it');
}
