// StaticTokenAuthenticator: bearer tokens checked against SHA-256 hashes from the tenants file.
// Security control: the presented token is hashed, then compared with EVERY stored hash using
// timingSafeEqual and no early exit, so neither timing nor a Map lookup reveals which prefix or
// which tenant matched. Hashing first also makes every comparison the same length.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { TenantDirectory } from '../tenants/tenant.js';
import type { Authenticator, AuthResult, Principal } from './authenticator.js';

interface Entry {
  hash: Buffer;
  principal: Principal;
}

export class StaticTokenAuthenticator implements Authenticator {
  private entries: Entry[] = [];
  private builtFrom: TenantDirectory | undefined;

  constructor(private readonly directory: () => TenantDirectory) {}

  async authenticate(bearer: string): Promise<AuthResult> {
    if (bearer === '') return { kind: 'refused', reason: 'missing' };
    const presented = createHash('sha256').update(bearer, 'utf8').digest();
    let match: Principal | undefined;
    for (const entry of this.currentEntries()) {
      if (timingSafeEqual(presented, entry.hash) && match === undefined) match = entry.principal;
    }
    return match ? { kind: 'ok', principal: match } : { kind: 'refused', reason: 'invalid' };
  }

  /** Rebuilt only when the directory object changes (a reload), not per request. */
  private currentEntries(): Entry[] {
    const directory = this.directory();
    if (directory !== this.builtFrom) {
      const entries: Entry[] = [];
      for (const tenant of directory.tenants.values()) {
        for (const hash of tenant.tokenHashes) entries.push({ hash, principal: { kind: 'tenant', tenant: tenant.name } });
      }
      for (const hash of directory.adminTokenHashes) entries.push({ hash, principal: { kind: 'admin' } });
      this.entries = entries;
      this.builtFrom = directory;
    }
    return this.entries;
  }
}
