// `berth usage [--tenant T]`: model tokens metered per tenant (GET /admin/usage). Without
// --tenant, one row per tenant of the tenants file; with it, one row per session plus a total,
// read page by page (the API pages a tenant's sessions) up to MAX_PAGES.

import { commandSpec, usageLine } from '../command-specs.js';
import type { Flags } from '../flags.js';
import { AdminError, adminRequest, adminTarget, printJson, runAdmin, type AdminTarget } from '../admin-client.js';
import { count, formatTable } from '../table.js';

interface Tokens {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

interface UsageReport {
  usage: Array<{ tenant: string; total: Tokens; sessions?: Record<string, Tokens>; nextCursor?: string | null; sessionCount?: number }>;
}

/**
 * Most pages `usage --tenant` fetches, 1000 sessions each: 200 000 sessions. A cap, so a gateway
 * that kept returning a cursor could not loop the CLI forever.
 */
const MAX_PAGES = 200;

/** The API's largest usage page (GET /admin/usage?limit=). */
const PAGE_SIZE = 1000;

const TOKEN_HEADERS = ['INPUT', 'OUTPUT', 'CACHE WRITE', 'CACHE READ'];

export async function usageCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runAdmin('usage', async () => {
    if (flags._.length > 0) throw new AdminError(usageLine(commandSpec('usage')), 2);
    const tenant = flags.tenant as string | undefined;
    const target = adminTarget(flags, env);
    const report = tenant ? await tenantReport(target, tenant) : await adminRequest<UsageReport>(target, 'GET', '/admin/usage');
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

/** The tenant's entry with every page of its sessions merged (nextCursor null unless capped). */
async function tenantReport(target: AdminTarget, tenant: string): Promise<UsageReport> {
  const query = new URLSearchParams({ tenant, limit: String(PAGE_SIZE) });
  let merged: UsageReport['usage'][number] | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const entry = (await adminRequest<UsageReport>(target, 'GET', `/admin/usage?${query}`)).usage[0];
    if (!entry) break;
    merged = { ...entry, sessions: { ...merged?.sessions, ...entry.sessions } };
    // A cursor that does not advance would repeat the same page; stop rather than loop.
    if (!entry.nextCursor || entry.nextCursor === query.get('cursor')) break;
    query.set('cursor', entry.nextCursor);
  }
  return { usage: merged ? [merged] : [] };
}

function tokenCells(t: Tokens): string[] {
  return [count(t.inputTokens), count(t.outputTokens), count(t.cacheCreationInputTokens), count(t.cacheReadInputTokens)];
}
