// Remembers credentials whose signature and claims already verified, so a sandbox's every CONNECT
// and model call does not pay a JWT verification (key import, HMAC, JSON, claim checks) again.
// Neighbours: credentials.ts (the verification it caches), egress/proxy-auth.ts (its one user).
//
// Security controls:
// - Only what verification proves is cached: the signature and the claims. Revocation is not:
//   proxy-auth.ts still checks the session's binding in the store on every request, so a released
//   sandbox's credential stops working exactly as before.
// - An entry lives until the credential's own `exp` (no clock tolerance: stricter than a fresh
//   verify), never longer.
// - Keyed by the SHA-256 of the token, never the token: a Map hit requires the presented token's
//   digest to equal a verified token's digest, which only that token produces; lookup timing can
//   depend only on digest bits, which say nothing about the token. Failures are not cached, so
//   junk tokens cannot fill it.

import { createHash } from 'node:crypto';
import type { CredentialClaims, SessionCredentials } from './credentials.js';

export interface VerifiedCacheOptions {
  /** Unix ms clock; tests inject one. */
  now?: () => number;
  /**
   * Entries kept, default 10,000: one per live sandbox credential is the working set; past it the
   * oldest entry goes (a miss only costs one verification).
   */
  maxEntries?: number;
}

export function cacheVerifiedCredentials(credentials: SessionCredentials, options: VerifiedCacheOptions = {}): SessionCredentials {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  // Map order is insertion order: the first key is the oldest entry.
  const verified = new Map<string, CredentialClaims>();
  return {
    mint: (subject) => credentials.mint(subject),
    async verify(token) {
      const key = createHash('sha256').update(token, 'utf8').digest('base64');
      const hit = verified.get(key);
      if (hit !== undefined) {
        if (hit.expiresAt > now()) return { ok: true, claims: hit };
        verified.delete(key);
      }
      const result = await credentials.verify(token);
      if (result.ok && result.claims.expiresAt > now()) {
        if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
        verified.set(key, result.claims);
      }
      return result;
    },
  };
}
