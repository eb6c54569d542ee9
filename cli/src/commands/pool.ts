// `berth pool`: the gateway's warm pools per sandbox profile (GET /admin/pool) as a table, or
// the API's JSON with --json. Counts are what the backend reports (see PoolStatus).

import { commandSpec, usageLine } from '../command-specs.js';
import type { Flags } from '../flags.js';
import { AdminError, adminRequest, adminTarget, printJson, runAdmin } from '../admin-client.js';
import { formatTable } from '../table.js';

interface PoolReport {
  backend: string;
  pools: Array<{ profile: string; target: number; ready: number; starting: number; claimed: number; coldStarts: number; warmClaims: number }>;
}

export async function poolCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runAdmin('pool', async () => {
    if (flags._.length > 0) throw new AdminError(usageLine(commandSpec('pool')), 2);
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
