// Parses and validates the YAML tenants file (format in the README). Every problem is reported
// at once with its path, so an operator fixes the file in one pass; a file with any problem is
// refused whole (the caller keeps the last good directory in force).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { AgentProfile, PermissionMode } from '@berth/protocol';
import { parseAllowlist } from '../policy/allowlist.js';
import type { Tenant, TenantDirectory, TenantLimits } from './tenant.js';

export class TenantsFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`tenants file is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'TenantsFileError';
  }
}

const HASH_PATTERN = /^sha256:([0-9a-f]{64})$/;
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const PERMISSION_MODES: PermissionMode[] = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'];

/** The stored form of a bearer token: "sha256:<hex>". */
export function hashToken(token: string): string {
  return 'sha256:' + createHash('sha256').update(token, 'utf8').digest('hex');
}

export async function readTenantsFile(path: string): Promise<TenantDirectory> {
  return parseTenants(await readFile(path, 'utf8'));
}

export function parseTenants(text: string): TenantDirectory {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new TenantsFileError([`not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (!isObject(doc)) throw new TenantsFileError(['the file must be a mapping with a `tenants` key']);
  const tenants = new Map<string, Tenant>();
  const rawTenants = doc.tenants;
  if (!isObject(rawTenants)) problems.push('tenants: must be a mapping of tenant name → settings');
  else {
    for (const [name, raw] of Object.entries(rawTenants)) {
      const tenant = parseTenant(name, raw, problems);
      if (tenant) tenants.set(name, tenant);
    }
  }
  const adminTokenHashes = doc.admins === undefined ? [] : parseHashes('admins.tokenHashes', isObject(doc.admins) ? doc.admins.tokenHashes : undefined, problems);
  const seen = new Map<string, string>();
  for (const tenant of tenants.values()) {
    for (const hash of tenant.tokenHashes) {
      const hex = hash.toString('hex');
      const other = seen.get(hex);
      if (other) problems.push(`tenants.${tenant.name}.tokenHashes: a token hash is also used by tenant ${other}`);
      seen.set(hex, tenant.name);
    }
  }
  if (problems.length > 0) throw new TenantsFileError(problems);
  return { tenants, adminTokenHashes };
}

function parseTenant(name: string, raw: unknown, problems: string[]): Tenant | undefined {
  const at = `tenants.${name}`;
  if (!NAME_PATTERN.test(name)) problems.push(`${at}: tenant names are lowercase letters, digits, _ and -, at most 63`);
  if (!isObject(raw)) {
    problems.push(`${at}: must be a mapping`);
    return undefined;
  }
  const tenant: Tenant = {
    name,
    tokenHashes: parseHashes(`${at}.tokenHashes`, raw.tokenHashes, problems),
    agent: parseAgent(`${at}.agent`, raw.agent, problems),
    sandboxProfile: optionalString(`${at}.sandboxProfile`, raw.sandboxProfile, problems) ?? 'default',
    egress: { allow: allowlist(`${at}.egress.allow`, isObject(raw.egress) ? raw.egress.allow : undefined, problems) },
    limits: parseLimits(`${at}.limits`, raw.limits, problems),
  };
  const keyEnv = optionalString(`${at}.modelApiKeyEnv`, raw.modelApiKeyEnv, problems);
  if (keyEnv !== undefined) tenant.modelApiKeyEnv = keyEnv;
  return tenant;
}

function allowlist(at: string, raw: unknown, problems: string[]): string[] {
  const entries = stringList(at, raw, problems) ?? [];
  const parsed = parseAllowlist(entries);
  if (!parsed.ok) for (const error of parsed.errors) problems.push(`${at}: ${error}`);
  return parsed.ok ? entries : [];
}

function parseHashes(at: string, raw: unknown, problems: string[]): Buffer[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${at}: must be a list of "sha256:<64 hex>" strings`);
    return [];
  }
  const hashes: Buffer[] = [];
  raw.forEach((value, i) => {
    const match = typeof value === 'string' ? HASH_PATTERN.exec(value) : null;
    if (!match) problems.push(`${at}[${i}]: must be "sha256:<64 lowercase hex>" (mint one with \`berth token <tenant>\`)`);
    else hashes.push(Buffer.from(match[1]!, 'hex'));
  });
  return hashes;
}

function parseAgent(at: string, raw: unknown, problems: string[]): AgentProfile {
  if (raw === undefined) return {};
  if (!isObject(raw)) {
    problems.push(`${at}: must be a mapping`);
    return {};
  }
  const agent: AgentProfile = {};
  const model = optionalString(`${at}.model`, raw.model, problems);
  if (model !== undefined) agent.model = model;
  const systemPrompt = optionalString(`${at}.systemPrompt`, raw.systemPrompt, problems);
  if (systemPrompt !== undefined) agent.systemPrompt = systemPrompt;
  const allowedTools = stringList(`${at}.allowedTools`, raw.allowedTools, problems);
  if (allowedTools) agent.allowedTools = allowedTools;
  const disallowedTools = stringList(`${at}.disallowedTools`, raw.disallowedTools, problems);
  if (disallowedTools) agent.disallowedTools = disallowedTools;
  const maxTurns = positiveInt(`${at}.maxTurns`, raw.maxTurns, problems, 1000);
  if (maxTurns !== undefined) agent.maxTurns = maxTurns;
  if (raw.permissionMode !== undefined) {
    if (PERMISSION_MODES.includes(raw.permissionMode as PermissionMode)) agent.permissionMode = raw.permissionMode as PermissionMode;
    else problems.push(`${at}.permissionMode: must be one of ${PERMISSION_MODES.join(', ')}`);
  }
  return agent;
}

function parseLimits(at: string, raw: unknown, problems: string[]): TenantLimits {
  if (raw === undefined) return {};
  if (!isObject(raw)) {
    problems.push(`${at}: must be a mapping`);
    return {};
  }
  const limits: TenantLimits = {};
  for (const key of ['maxConcurrentSessions', 'maxConcurrentTurns', 'requestsPerMinute'] as const) {
    const value = positiveInt(`${at}.${key}`, raw[key], problems, 1_000_000);
    if (value !== undefined) limits[key] = value;
  }
  if (raw.tokenBudget !== undefined) {
    const budget = raw.tokenBudget;
    const tokens = isObject(budget) ? positiveInt(`${at}.tokenBudget.tokens`, budget.tokens, problems, Number.MAX_SAFE_INTEGER) : undefined;
    const periodS = isObject(budget) ? positiveInt(`${at}.tokenBudget.periodS`, budget.periodS, problems, 366 * 86400) : undefined;
    if (tokens !== undefined && periodS !== undefined) limits.tokenBudget = { tokens, periodS };
    else problems.push(`${at}.tokenBudget: needs tokens and periodS, both positive integers`);
  }
  return limits;
}

function positiveInt(at: string, raw: unknown, problems: string[], max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > max) {
    problems.push(`${at}: must be an integer from 1 to ${max}`);
    return undefined;
  }
  return raw;
}

function optionalString(at: string, raw: unknown, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '') {
    problems.push(`${at}: must be a non-empty string`);
    return undefined;
  }
  return raw;
}

function stringList(at: string, raw: unknown, problems: string[]): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string' || v === '')) {
    problems.push(`${at}: must be a list of non-empty strings`);
    return undefined;
  }
  return raw as string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
