// The embedded defaults of `berth start`: when the default tenants file does not exist yet, it
// is created with two demo tenants (alice, bob) and their tokens are kept in .berth/demo-tokens.json
// (mode 0600, local development only) so every start can print the same ready-to-use curl lines.

import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { mintToken, writeAtomically } from './tokens.js';

export const DEMO_TENANTS = ['alice', 'bob'] as const;

const DEMO_DEFAULTS = {
  agent: { allowedTools: ['Bash', 'Read', 'Write', 'Edit', 'Glob', 'Grep'], permissionMode: 'default', maxTurns: 20 },
  sandboxProfile: 'default',
  egress: { allow: ['api.github.com', 'registry.npmjs.org'] },
  limits: { maxConcurrentSessions: 20, maxConcurrentTurns: 4, requestsPerMinute: 600 },
};

export interface DemoTokens {
  [tenant: string]: string;
}

/** Creates the demo tenants file if missing; returns the demo tokens when berth made the file. */
export async function ensureDemoTenants(tenantsFile: string): Promise<DemoTokens | undefined> {
  const dir = path.dirname(tenantsFile);
  const tokensFile = path.join(dir, 'demo-tokens.json');
  const exists = await readFile(tenantsFile, 'utf8').then(() => true, () => false);
  if (exists) {
    return readFile(tokensFile, 'utf8').then((text) => JSON.parse(text) as DemoTokens, () => undefined);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomically(tenantsFile, '# berth tenants (demo, made by `berth start`). Add tokens with `berth token <tenant>`.\ntenants: {}\n');
  const tokens: DemoTokens = {};
  for (const tenant of DEMO_TENANTS) tokens[tenant] = await mintToken(tenantsFile, tenant, DEMO_DEFAULTS);
  await writeAtomically(tokensFile, JSON.stringify(tokens, null, 2) + '\n');
  return tokens;
}
