// A tenant as the gateway uses it, after the tenants file is parsed and validated.

import type { AgentProfile } from '@berth/protocol';
import type { TenantLimits } from '../policy/limits.js';
import type { WEBHOOK_EVENTS } from './tenants-schema.js';

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
  /** Endpoints told about the tenant's sessions; absent = none. */
  webhooks?: TenantWebhook[];
}

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** One webhook endpoint of a tenant; deliveries are signed per Standard Webhooks. */
export interface TenantWebhook {
  /** http:// or https:// */
  url: string;
  /** Standard Webhooks signing secret, "whsec_<base64 of 24–64 key bytes>". A secret: never logged. */
  secret: string;
  /** Events to deliver; absent = every event. */
  events?: WebhookEvent[];
}

export interface TenantDirectory {
  tenants: ReadonlyMap<string, Tenant>;
  /** SHA-256 digests of admin tokens. */
  adminTokenHashes: Buffer[];
  /**
   * Tenants not listed in `tenants`, named by a verified JWT's claim (claims-tenants.ts): set only
   * when JWT auth is configured and there is no tenants file. Look tenants up with findTenant.
   */
  fromClaims?: (name: string) => Tenant | undefined;
}

/** The named tenant: listed in the file, or (no file, JWT deployment) made from its name. */
export function findTenant(directory: TenantDirectory, name: string): Tenant | undefined {
  return directory.tenants.get(name) ?? directory.fromClaims?.(name);
}
