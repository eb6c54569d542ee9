// StaticTokenAuthenticator: bearer tokens checked against SHA-256 hashes from the tenants file.
// One Map lookup per request, whatever the number of tenants: the index (token hash → principal,
// tenants/token-index.ts) is built once per reload, never per request.
//
// Security control: the Map is keyed by the SHA-256 of the presented token, never by the token.
// A lookup's timing can depend on the key only through that digest (string hashing, bucket
// probing), and bits of a SHA-256 digest tell an attacker nothing about which token to try next:
// only a preimage search leads from digest bits back to a token. The entry found is then
// confirmed with timingSafeEqual over all 32 bytes, so the equality check is constant time.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenantDirectory } from '../tenants/tenant.js';
import { tokenIndex, tokenKey } from '../tenants/token-index.js';
import type { Authenticator, AuthResult } from './authenticator.js';

export class StaticTokenAuthenticator implements Authenticator {
  constructor(private readonly directory: () => TenantDirectory) {}

  async authenticate(bearer: string): Promise<AuthResult> {
    if (bearer === '') return { kind: 'refused', reason: 'missing' };
    const presented = createHash('sha256').update(bearer, 'utf8').digest();
    const entry = tokenIndex(this.directory()).get(tokenKey(presented));
    if (entry === undefined || !timingSafeEqual(presented, entry.hash)) return { kind: 'refused', reason: 'invalid' };
    return { kind: 'ok', principal: entry.principal };
  }
}
