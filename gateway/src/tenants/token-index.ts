// The static-token index of a tenant directory: SHA-256 of a token → the principal it names.
// Built once per directory object (a reload makes a new one; tenants-source.ts builds the index
// before the swap, so no request pays for it); StaticTokenAuthenticator looks tokens up in it.
// It holds hashes only, never tokens. Why a Map keyed by a hash is safe: see the authenticator.

import type { Principal } from '../auth/authenticator.js';
import type { TenantDirectory } from './tenant.js';

export interface TokenEntry {
  /** The stored SHA-256 digest, 32 bytes. */
  hash: Buffer;
  principal: Principal;
}

/** Keyed by the digest's 32 bytes as a latin1 string (one char per byte: no encoding work). */
export type TokenIndex = ReadonlyMap<string, TokenEntry>;

const indexes = new WeakMap<TenantDirectory, TokenIndex>();

export function tokenKey(digest: Buffer): string {
  return digest.toString('latin1');
}

export function tokenIndex(directory: TenantDirectory): TokenIndex {
  let index = indexes.get(directory);
  if (index === undefined) {
    const built = new Map<string, TokenEntry>();
    // The tenants file refuses one hash for two principals (tenants-semantics.ts), so no entry
    // here replaces another principal's.
    for (const tenant of directory.tenants.values()) {
      const principal: Principal = { kind: 'tenant', tenant: tenant.name };
      for (const hash of tenant.tokenHashes) built.set(tokenKey(hash), { hash, principal });
    }
    const admin: Principal = { kind: 'admin' };
    for (const hash of directory.adminTokenHashes) built.set(tokenKey(hash), { hash, principal: admin });
    index = built;
    indexes.set(directory, index);
  }
  return index;
}
