// The tenant directory of a JWT deployment without a tenants file: no tenant is listed, and any
// tenant a verified JWT names (its tenant claim) exists with the default profile: the default
// agent profile and sandbox profile, no egress beyond the model API, no limits, no webhooks, no
// static tokens. Neighbours: tenants-source.ts (picks this when the file is absent and JWTs are
// configured), jwt-authenticator.ts (verifies the claim before any name reaches here).
// It does not read claims itself, and it is never used while a tenants file exists.

import type { Tenant, TenantDirectory } from './tenant.js';
import { TENANT_NAME_PATTERN } from './tenants-schema.js';

/**
 * Tenant objects kept per name, so per-tenant caches keyed by the object (the egress policy)
 * stay warm. Bounded: past this many names the cache starts over (names come from the identity
 * provider's signed tokens, so this only bounds an unexpectedly large issuer, not an attacker).
 */
const MAX_CACHED_TENANTS = 100_000;
const TENANT_NAME = new RegExp(TENANT_NAME_PATTERN);

export function claimsTenantDirectory(): TenantDirectory {
  const made = new Map<string, Tenant>();
  return {
    tenants: new Map(),
    adminTokenHashes: [],
    fromClaims(name) {
      let tenant = made.get(name);
      if (tenant === undefined) {
        // A tenant name lands in store keys and logs: the file's own name rule holds here too.
        if (!TENANT_NAME.test(name)) return undefined;
        if (made.size >= MAX_CACHED_TENANTS) made.clear();
        tenant = { name, tokenHashes: [], agent: {}, sandboxProfile: 'default', egress: { allow: [] }, limits: {} };
        made.set(name, tenant);
      }
      return tenant;
    },
  };
}
