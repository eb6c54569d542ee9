// Signing keys for session credentials: parsed from BERTH_CREDENTIAL_KEYS
// ("kid1:base64secret,kid2:base64secret"; the first signs, all verify, so a rotation adds the new
// key first, waits one credential TTL, then drops the old one), or generated at start for a
// one-process setup. Pure apart from the random generator. Neighbour: credentials.ts.
// Security control: secrets shorter than 32 bytes are refused (HS256 wants a 256-bit key), and
// neither errors nor toString ever print a secret.

import { randomBytes } from 'node:crypto';

export interface CredentialKey {
  kid: string;
  secret: Uint8Array;
}

/** Non-empty; keys[0] signs. */
export type CredentialKeys = readonly [CredentialKey, ...CredentialKey[]];

export type KeysParseResult = { ok: true; keys: CredentialKeys } | { ok: false; errors: string[] };

/** HS256 needs at least 256 bits of secret. */
export const MIN_SECRET_BYTES = 32;

const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Parses "kid:base64secret,…"; reports every bad entry at once, never echoing a secret. */
export function parseCredentialKeys(text: string): KeysParseResult {
  const errors: string[] = [];
  const keys: CredentialKey[] = [];
  const entries = text.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) errors.push('BERTH_CREDENTIAL_KEYS: no keys; expected "kid:base64secret,…"');
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const where = `BERTH_CREDENTIAL_KEYS entry ${index + 1}`;
    if (colon === -1) return void errors.push(`${where}: expected kid:base64secret`);
    const kid = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KID_PATTERN.test(kid)) return void errors.push(`${where}: kid must match ${KID_PATTERN.source}`);
    if (keys.some((k) => k.kid === kid)) return void errors.push(`${where}: kid ${kid} appears twice`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) return void errors.push(`${where} (kid ${kid}): secret is not base64`);
    const secret = new Uint8Array(Buffer.from(encoded, encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64'));
    if (secret.length < MIN_SECRET_BYTES) {
      return void errors.push(`${where} (kid ${kid}): secret is ${secret.length} bytes, need at least ${MIN_SECRET_BYTES} (try: openssl rand -base64 32)`);
    }
    keys.push({ kid, secret });
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, keys: keys as unknown as CredentialKeys };
}

/** One random key, for a single-process setup: credentials die with the process, which is fine
 *  because so do its sessions' sandboxes. Multi-replica deployments must share keys. */
export function generateCredentialKeys(random: (bytes: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n))): CredentialKeys {
  const kid = `gen-${Buffer.from(random(6)).toString('hex')}`;
  return [{ kid, secret: random(MIN_SECRET_BYTES) }];
}

/** From the raw env value: parse it when set, else generate. Throws with all problems on a bad value. */
export function credentialKeysFromEnv(value: string | undefined): CredentialKeys {
  if (value === undefined || value.trim() === '') return generateCredentialKeys();
  const result = parseCredentialKeys(value);
  if (!result.ok) throw new TypeError(result.errors.join('\n'));
  return result.keys;
}
