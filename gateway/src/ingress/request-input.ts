// Validation of what callers send: session ids, message bodies and listing page sizes. Bounded
// everywhere (security control): the id by the protocol rule, the body by the JSON parser's
// limit, the prompt and the page size here. Listing cursors: listing-cursor.ts.

import { BerthError, isValidSessionId } from '@berth/protocol';
import { DEFAULT_SESSION_PAGE, MAX_SESSION_PAGE } from '../store/session-listing.js';

/** Longest prompt accepted, in characters. The body limit bounds bytes; this names the field. */
export const MAX_PROMPT_CHARS = 200_000;

export function sessionIdParam(value: unknown): string {
  if (!isValidSessionId(value)) {
    throw new BerthError('invalid_session_id', 'session ids are 1–64 characters: letters, digits, _ and -, starting with a letter or digit');
  }
  return value;
}

export function promptOf(body: unknown): string {
  const prompt = typeof body === 'object' && body !== null ? (body as { prompt?: unknown }).prompt : undefined;
  if (typeof prompt !== 'string' || prompt.trim() === '') throw new BerthError('invalid_body', 'the body must be JSON {"prompt": "<non-empty text>"}');
  if (prompt.length > MAX_PROMPT_CHARS) throw new BerthError('payload_too_large', `prompts are at most ${MAX_PROMPT_CHARS} characters`);
  return prompt;
}

/** ?limit of a listing page (sessions, usage): absent → DEFAULT_SESSION_PAGE; 1..MAX_SESSION_PAGE, else 400. */
export function pageLimitParam(raw: unknown): number {
  if (raw === undefined) return DEFAULT_SESSION_PAGE;
  const limit = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_SESSION_PAGE)) throw new BerthError('invalid_body', `?limit must be an integer from 1 to ${MAX_SESSION_PAGE}`);
  return limit;
}
