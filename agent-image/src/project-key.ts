// The SessionStore projectKey of a tenant. The SDK asks multi-tenant deployments to put the
// tenant there; both the SDK (SessionStore.load) and the CLI (where it writes, hence the key of
// every append) take it from CLAUDE_CODE_PROJECT_DIR_NAME when CLAUDE_CONFIG_DIR is set, and
// silently fall back to the sanitized cwd when the name fails their rule. So a tenant name the
// rule refuses is mapped here to one it accepts: otherwise load() would ask under a key that no
// handed-over transcript was kept under. Pure. Neighbours: sdk-options.ts (the env variable),
// session.ts (the store's own key).

import { createHash } from 'node:crypto';

/** The CLI's rule for CLAUDE_CODE_PROJECT_DIR_NAME (a single, portable directory name). */
const ACCEPTED = /^[A-Za-z0-9_-]{1,64}$/;
/** Names Windows reserves; the CLI refuses them on every platform so a key stays portable. */
const RESERVED = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** The tenant itself when the CLI accepts it as a directory name, else a stable hash of it. */
export function projectKeyFor(tenant: string): string {
  if (ACCEPTED.test(tenant) && !RESERVED.test(tenant)) return tenant;
  return `t-${createHash('sha256').update(tenant).digest('hex').slice(0, 32)}`;
}
