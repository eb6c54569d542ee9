// Reads the sandbox profiles (BERTH_PROFILES_FILE, YAML): a list of orchestrator SandboxProfile.
// Without a file, one 'default' profile of BERTH_POOL_SIZE standbys. Problems are reported all
// at once, like the tenants file. withTenantStartSettings fills a pool's agent start settings
// from the tenants that use it.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { agentStartKey, agentStartSettings } from '@berth/protocol';
import { defaultProfile, type SandboxProfile } from '@berth/orchestrator';
import type { Tenant } from './tenants/tenant.js';

export class ProfilesFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`profiles file is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'ProfilesFileError';
  }
}

/** The start settings a pool's standbys pre-start with (orchestrator SandboxProfile.agent). */
function agentProblems(agent: unknown, at: string): string[] {
  if (typeof agent !== 'object' || agent === null || Array.isArray(agent)) return [`${at}: must be a mapping`];
  const a = agent as Record<string, unknown>;
  const problems: string[] = [];
  const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');
  if (a.systemPrompt !== undefined && typeof a.systemPrompt !== 'string') problems.push(`${at}.systemPrompt: a string`);
  if (a.allowedTools !== undefined && !strings(a.allowedTools)) problems.push(`${at}.allowedTools: a list of tool names`);
  if (a.disallowedTools !== undefined && !strings(a.disallowedTools)) problems.push(`${at}.disallowedTools: a list of tool names`);
  if (a.maxTurns !== undefined && !(Number.isInteger(a.maxTurns) && (a.maxTurns as number) >= 1 && (a.maxTurns as number) <= 1000)) problems.push(`${at}.maxTurns: an integer from 1 to 1000`);
  if (a.permissionMode !== undefined && typeof a.permissionMode !== 'string') problems.push(`${at}.permissionMode: a permission mode`);
  if (a.permissions !== undefined && (typeof a.permissions !== 'object' || a.permissions === null)) problems.push(`${at}.permissions: a mapping`);
  return problems;
}

export async function loadProfiles(file: string | undefined, poolSize: number): Promise<SandboxProfile[]> {
  if (!file) return [defaultProfile(poolSize)];
  return parseProfiles(await readFile(file, 'utf8'));
}

export function parseProfiles(text: string): SandboxProfile[] {
  const doc = parse(text) as unknown;
  const list = Array.isArray(doc) ? doc : (doc as { profiles?: unknown } | null)?.profiles;
  const problems: string[] = [];
  if (!Array.isArray(list) || list.length === 0) throw new ProfilesFileError(['expected a non-empty list of profiles (or a `profiles:` key holding one)']);
  const names = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const at = `profiles[${i}]`;
    const p = raw as Partial<SandboxProfile> | null;
    if (typeof p !== 'object' || p === null) return problems.push(`${at}: must be a mapping`);
    if (typeof p.name !== 'string' || !/^[a-z0-9][a-z0-9-]{0,30}$/.test(p.name)) problems.push(`${at}.name: lowercase letters, digits and -, at most 31`);
    else if (names.has(p.name)) problems.push(`${at}.name: ${p.name} is defined twice`);
    else names.add(p.name);
    if (!Number.isInteger(p.poolSize) || (p.poolSize as number) < 0 || (p.poolSize as number) > 1000) problems.push(`${at}.poolSize: an integer from 0 to 1000`);
    if (p.egress !== undefined && p.egress !== 'proxy' && p.egress !== 'none') problems.push(`${at}.egress: proxy or none`);
    if (p.agent !== undefined) problems.push(...agentProblems(p.agent, `${at}.agent`));
    return undefined;
  });
  if (problems.length > 0) throw new ProfilesFileError(problems);
  return list as SandboxProfile[];
}

/**
 * A pool whose profile names no agent start settings pre-starts its standbys with those of the
 * tenants that use it, when they all agree (`berth start`'s demo tenants do): then their first
 * turns skip the CLI's start-up with no profiles file. Tenants that disagree leave it unset
 * (every session's CLI then starts at its first turn, as it would on a mismatch); a profiles
 * file's `agent` is kept as it is. Read at start: a tenants-file reload does not re-key pools.
 */
export function withTenantStartSettings(profiles: SandboxProfile[], tenants: Iterable<Tenant>): SandboxProfile[] {
  const users = new Map<string, Tenant[]>();
  // Appended in place: copying the list per tenant made 100,000 tenants of one pool quadratic.
  for (const tenant of tenants) {
    const list = users.get(tenant.sandboxProfile);
    if (list) list.push(tenant);
    else users.set(tenant.sandboxProfile, [tenant]);
  }
  return profiles.map((profile) => {
    const using = users.get(profile.name) ?? [];
    if (profile.agent !== undefined || using.length === 0) return profile;
    const keys = new Set(using.map((t) => agentStartKey(t.agent)));
    return keys.size === 1 ? { ...profile, agent: agentStartSettings(using[0]!.agent) } : profile;
  });
}
