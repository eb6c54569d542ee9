// `berth token <tenant>`: mints a bearer token into the tenants file and prints it once.
// `berth token revoke <token|sha256:hash>` removes it. A running gateway picks both up on reload.

import { loadConfig } from '@berth/gateway/config';
import { parseFlags } from '../flags.js';
import { mintToken, revokeToken } from '../tokens.js';

export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const flags = parseFlags(argv, { file: 'string' });
  const file = (flags.file as string | undefined) ?? loadConfig(env).tenantsFile;
  const [first, second] = flags._;
  if (first === 'revoke' && second) {
    const found = await revokeToken(file, second);
    process.stderr.write(found ? `revoked in ${file}\n` : `no such token in ${file}\n`);
    return found ? 0 : 1;
  }
  const tenant = first === 'mint' ? second : first;
  if (!tenant || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(tenant)) {
    process.stderr.write('usage: berth token mint <tenant> | berth token <tenant> [--file tenants.yaml] | berth token revoke <token> (tenant: lowercase letters, digits, _ -)\n');
    return 2;
  }
  const token = await mintToken(file, tenant);
  process.stdout.write(token + '\n');
  process.stderr.write(`token for ${tenant} added to ${file} (shown once; only its hash is stored)\n`);
  return 0;
}
