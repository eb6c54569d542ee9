// A tenant as the gateway uses it, after the tenants file is parsed and validated.

import type { AgentProfile } from '@berth/protocol';
import type { TenantLimits } from '../policy/limits.js';

export type { TenantLimits };

export interface Tenant {
  name: string;
  /** SHA-256 digests of the tenant's bearer tokens (never the tokens). */
  tokenHashes: Buffer[];
  agent: AgentProfile;
  sandboxProfile: string;
  egress: { allow: string[] };
  limits: TenantLimits;
  /** Env var holding the tenant's own model API key, read by the egress gateway only. */
  modelApiKeyEnv?: string;
}

export interface TenantDirectory {
  tenants: ReadonlyMap<string, Tenant>;
  /** SHA-256 digests of admin tokens. */
  adminTokenHashes: Buffer[];
}
