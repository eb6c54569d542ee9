// A tenant as the gateway uses it, after the tenants file is parsed and validated.

import type { AgentProfile } from '@berth/protocol';

export interface TenantLimits {
  /** Sessions that may exist with a sandbox at once (including those still provisioning). */
  maxConcurrentSessions?: number;
  /** Turns streaming at once across the tenant's sessions. */
  maxConcurrentTurns?: number;
  /** Requests per minute (a token bucket). */
  requestsPerMinute?: number;
  /** Model tokens (input + output + cache) per period. */
  tokenBudget?: { tokens: number; periodS: number };
}

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
