// `berth token <tenant>`: mints a bearer token into the tenants file and prints it once.
// `berth token mint --admin` mints an admin token (admins.tokenHashes) the same way.
// `berth token revoke <token|sha256:hash>` removes either. A running gateway picks all up on reload.

import { UsageError, type Flags } from '../flags.js';
import { mintAdminToken, mintToken, revokeToken } from '../tokens.js';

const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function tokenCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // The gateway package (its whole config) is loaded only when no --file names the tenants file.
  const file = (flags.file as string | undefined) ?? (await import('@berth/gateway')).loadConfig(env).tenantsFile;
  const [first, second, extra] = flags._;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  if (flags.admin === true) {
    // `token mint --admin` (or `token --admin`): no tenant, and nothing else to do with --admin.
    if ((first !== undefined && first !== 'mint') || second !== undefined) throw new UsageError('--admin mints an admin token and takes no tenant: berth token mint --admin');
    const token = await mintAdminToken(file);
    process.stdout.write(token + '\n');
    process.stderr.write(`admin token added to ${file} (shown once; only its hash is stored)\n`);
    return 0;
  }
  if (first === 'revoke' && second) {
    const found = await revokeToken(file, second);
    process.stderr.write(found ? `revoked in ${file}\n` : `no such token in ${file}\n`);
    return found ? 0 : 1;
  }
  const tenant = first === 'mint' ? second : second === undefined ? first : undefined;
  if (!tenant || tenant === 'revoke' || !TENANT_NAME.test(tenant)) {
    throw new UsageError(tenant ? `${JSON.stringify(tenant)} is not a tenant name (lowercase letters, digits, _ and -, at most 63)` : 'name a tenant, or --admin for an admin token');
  }
  const token = await mintToken(file, tenant);
  process.stdout.write(token + '\n');
  process.stderr.write(`token for ${tenant} added to ${file} (shown once; only its hash is stored)\n`);
  return 0;
}
