// The session-id rule of the caller API. Ids travel in URL paths, Redis key hash tags and
// Kubernetes labels, so the alphabet is the intersection that is safe in all three, and the
// length fits a label value (63) plus one leading character class.

export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}
