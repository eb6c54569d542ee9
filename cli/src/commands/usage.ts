// `berth usage [--tenant T]`: model tokens metered per tenant (GET /admin/usage). Without
// --tenant, one row per tenant of the tenants file; with it, one row per session plus a total.

import { commandSpec, usageLine } from '../command-specs.js';
import type { Flags } from '../flags.js';
import { AdminError, adminRequest, adminTarget, printJson, runAdmin } from '../admin-client.js';
import { count, formatTable } from '../table.js';

interface Tokens {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

interface UsageReport {
  usage: Array<{ tenant: string; total: Tokens; sessions?: Record<string, Tokens>; sessionCount?: number }>;
}

const TOKEN_HEADERS = ['INPUT', 'OUTPUT', 'CACHE WRITE', 'CACHE READ'];

export async function usageCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runAdmin('usage', async () => {
    if (flags._.length > 0) throw new AdminError(usageLine(commandSpec('usage')), 2);
    const tenant = flags.tenant as string | undefined;
    const path = tenant ? `/admin/usage?tenant=${encodeURIComponent(tenant)}` : '/admin/usage';
    const report = await adminRequest<UsageReport>(adminTarget(flags, env), 'GET', path);
    if (flags.json) {
      printJson(report);
      return 0;
    }
    if (tenant) {
      const entry = report.usage[0];
      const sessions = Object.entries(entry?.sessions ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
      const rows = sessions.map(([id, t]) => [id, ...tokenCells(t)]);
      if (entry) rows.push(['(total)', ...tokenCells(entry.total)]);
      process.stdout.write(`tenant: ${tenant}\n`);
      process.stdout.write(formatTable(['SESSION', ...TOKEN_HEADERS], rows));
      return 0;
    }
    const rows = report.usage.map((u) => [u.tenant, ...tokenCells(u.total), count(u.sessionCount ?? 0)]);
    process.stdout.write(formatTable(['TENANT', ...TOKEN_HEADERS, 'SESSIONS'], rows));
    return 0;
  });
}

function tokenCells(t: Tokens): string[] {
  return [count(t.inputTokens), count(t.outputTokens), count(t.cacheCreationInputTokens), count(t.cacheReadInputTokens)];
}
