// Parses and validates the tenants file, YAML or JSON (format in the README, schema in
// tenants-schema.ts). Every problem is reported at once with its path, so an operator fixes the
// file in one pass; a file with any problem is refused whole (the caller keeps the last good
// directory in force). Shape and ranges come from the one JSON Schema (also the chart's and
// `berth tenants check`'s); the rules a schema cannot state follow in tenants-semantics.ts.
// Text goes through document-text.ts (a JSON fast path for large generated files).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AgentProfile } from '@berth/protocol';
import type { Tenant, TenantDirectory, TenantLimits, TenantWebhook } from './tenant.js';
import { parseDocumentText } from './document-text.js';
import { schemaProblems } from './tenants-problems.js';
import { semanticProblems } from './tenants-semantics.js';

export class TenantsFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`tenants file is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'TenantsFileError';
  }
}

/** The stored form of a bearer token: "sha256:<hex>". */
export function hashToken(token: string): string {
  return 'sha256:' + createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function readTenantsFile(path: string): Promise<TenantDirectory> {
  return parseTenants(await readFile(path, 'utf8'));
}

/** The file as the schema describes it (what remains once validation passed). */
interface TenantsDocument {
  tenants: Record<string, TenantEntry>;
  admins?: { tokenHashes?: string[] };
}

interface TenantEntry {
  tokenHashes?: string[];
  agent?: AgentProfile;
  sandboxProfile?: string;
  egress?: { allow?: string[] };
  limits?: TenantLimits;
  modelApiKeyEnv?: string;
  webhooks?: TenantWebhook[];
}

export function parseTenants(text: string): TenantDirectory {
  const parsed = parseDocumentText(text);
  if (!parsed.ok) throw new TenantsFileError([parsed.problem]);
  const doc = parsed.doc;
  const shape = schemaProblems(doc);
  const problems = [...shape, ...(shape.length > 0 && !isObject(doc) ? [] : semanticProblems(doc as Record<string, unknown>, shape))];
  if (problems.length > 0) throw new TenantsFileError(problems);
  const valid = doc as TenantsDocument;
  const tenants = new Map<string, Tenant>();
  for (const [name, entry] of Object.entries(valid.tenants)) tenants.set(name, toTenant(name, entry));
  return { tenants, adminTokenHashes: (valid.admins?.tokenHashes ?? []).map(hashBytes) };
}

function toTenant(name: string, entry: TenantEntry): Tenant {
  const tenant: Tenant = {
    name,
    tokenHashes: (entry.tokenHashes ?? []).map(hashBytes),
    agent: entry.agent ?? {},
    sandboxProfile: entry.sandboxProfile ?? 'default',
    egress: { allow: entry.egress?.allow ?? [] },
    limits: entry.limits ?? {},
  };
  if (entry.modelApiKeyEnv !== undefined) tenant.modelApiKeyEnv = entry.modelApiKeyEnv;
  if (entry.webhooks !== undefined) tenant.webhooks = entry.webhooks;
  return tenant;
}

/** "sha256:<hex>" (already validated) → its 32 bytes. */
function hashBytes(stored: string): Buffer {
  return Buffer.from(stored.slice('sha256:'.length), 'hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
