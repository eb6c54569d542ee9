// Validation of what callers send: session ids and message bodies. Bounded everywhere (security
// control): the id by the protocol rule, the body by the JSON parser's limit, the prompt here.

import { BerthError, isValidSessionId } from '@berth/protocol';

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
