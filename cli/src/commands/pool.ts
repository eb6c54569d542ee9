// `berth pool`: the gateway's warm pools per sandbox profile (GET /admin/pool) as a table, or
// the API's JSON with --json. Counts are what the backend reports (see PoolStatus).

import { parseFlags } from '../flags.js';
import { ADMIN_FLAGS, AdminError, adminRequest, adminTarget, printJson, runAdmin } from '../admin-client.js';
import { formatTable } from '../table.js';

interface PoolReport {
  backend: string;
  pools: Array<{ profile: string; target: number; ready: number; starting: number; claimed: number; coldStarts: number; warmClaims: number }>;
}

export async function poolCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const flags = parseFlags(argv, ADMIN_FLAGS);
  return runAdmin('pool', async () => {
    if (flags._.length > 0) throw new AdminError('usage: berth pool [--url URL] [--token T] [--json]', 2);
    const report = await adminRequest<PoolReport>(adminTarget(flags, env), 'GET', '/admin/pool');
    if (flags.json) {
      printJson(report);
      return 0;
    }
    const rows = report.pools.map((p) => [p.profile, p.target, p.ready, p.starting, p.claimed, p.warmClaims, p.coldStarts].map(String));
    process.stdout.write(`backend: ${report.backend}\n`);
    process.stdout.write(formatTable(['PROFILE', 'TARGET', 'READY', 'STARTING', 'CLAIMED', 'WARM CLAIMS', 'COLD STARTS'], rows));
    return 0;
  });
}
