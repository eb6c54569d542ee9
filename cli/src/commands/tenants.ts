// `berth tenants check FILE`: validates a tenants file before it is deployed. Offline by
// default, with the gateway's own parser (parseTenants), so it needs no running gateway;
// --remote asks a running gateway instead (POST /admin/tenants/check), which also warns about
// sandbox profiles that gateway does not have. Exit 0 when valid, 1 with every problem listed.

import { readFile } from 'node:fs/promises';
import { parseTenants, TenantsFileError } from '@berth/gateway/tenants';
import { commandSpec, usageLine } from '../command-specs.js';
import type { Flags } from '../flags.js';
import { AdminError, adminRequest, adminTarget, printJson, runAdmin } from '../admin-client.js';

interface CheckResult {
  ok: boolean;
  problems: string[];
  warnings: string[];
  tenants?: string[];
  adminTokens?: number;
}

const USAGE = usageLine(commandSpec('tenants'));

export async function tenantsCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [action, file, extra] = flags._;
  return runAdmin('tenants', async () => {
    if (action !== 'check' || !file || extra !== undefined) throw new AdminError(USAGE, 2);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new AdminError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const result = flags.remote ? await adminRequest<CheckResult>(adminTarget(flags, env), 'POST', '/admin/tenants/check', text) : checkLocally(text);
    if (flags.json) printJson(result);
    else report(file, result);
    return result.ok ? 0 : 1;
  });
}

export function checkLocally(text: string): CheckResult {
  try {
    const directory = parseTenants(text);
    return { ok: true, problems: [], warnings: [], tenants: [...directory.tenants.keys()], adminTokens: directory.adminTokenHashes.length };
  } catch (error) {
    if (error instanceof TenantsFileError) return { ok: false, problems: error.problems, warnings: [] };
    throw error;
  }
}

function report(file: string, result: CheckResult): void {
  for (const warning of result.warnings) process.stderr.write(`${file}: warning: ${warning}\n`);
  if (result.ok) {
    const names = result.tenants ?? [];
    process.stdout.write(`${file}: ok: ${names.length} tenant${names.length === 1 ? '' : 's'} (${names.join(', ')}), ${result.adminTokens ?? 0} admin token${result.adminTokens === 1 ? '' : 's'}\n`);
    return;
  }
  process.stderr.write(`${file}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}\n`);
  for (const problem of result.problems) process.stderr.write(`  ${problem}\n`);
}
