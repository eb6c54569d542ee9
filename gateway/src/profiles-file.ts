// Reads the sandbox profiles (BERTH_PROFILES_FILE, YAML): a list of orchestrator SandboxProfile.
// Without a file, one 'default' profile of BERTH_POOL_SIZE standbys. Problems are reported all
// at once, like the tenants file.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { defaultProfile, type SandboxProfile } from '@berth/orchestrator';

export class ProfilesFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`profiles file is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'ProfilesFileError';
  }
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
    return undefined;
  });
  if (problems.length > 0) throw new ProfilesFileError(problems);
  return list as SandboxProfile[];
}
