// `berth sessions list|show <id>|delete <id>`: every tenant's sessions through the gateway's
// admin API (GET/DELETE /admin/sessions…), as an aligned table or, with --json, the API's JSON.
// `list` shows one page (--limit, --cursor) or every page (--all); `delete` releases the sandbox.

import { commandSpec, usageLine } from '../command-specs.js';
import type { Flags } from '../flags.js';
import { AdminError, adminRequest, adminTarget, printJson, runAdmin, type AdminTarget } from '../admin-client.js';
import { formatFields, formatTable, shortTime } from '../table.js';

interface SessionView {
  id: string;
  tenant: string;
  profile: string;
  createdAt: string;
  lastActivityAt: string;
  turns: number;
  sdkSessionId: string | null;
  sandbox: { sandboxId: string; profile: string; claimedAt: string } | null;
  usage?: { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number } | null;
}

interface SessionPage {
  sessions: SessionView[];
  nextCursor: string | null;
}

/**
 * Most pages `list --all` fetches (MAX_PAGE_SIZE sessions each unless --limit says otherwise): 200
 * pages is 200 000 sessions. A cap, so a gateway that kept returning a cursor could not loop the
 * CLI forever.
 */
const MAX_PAGES = 200;

/** The API's page bound (GET /admin/sessions?limit=): --limit's range, and --all's page size. */
const MAX_PAGE_SIZE = 1000;

const SESSIONS_USAGE = usageLine(commandSpec('sessions'));

export async function sessionsCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [action, id, extra] = flags._;
  return runAdmin('sessions', async () => {
    if (extra !== undefined || !action || ((action === 'show' || action === 'delete') && !id) || (action === 'list' && id)) throw new AdminError(SESSIONS_USAGE, 2);
    const target = adminTarget(flags, env);
    const json = flags.json === true;
    if (action === 'list') return list(target, flags, json);
    const path = `/admin/sessions/${encodeURIComponent(id!)}`;
    if (action === 'show') {
      const session = await adminRequest<SessionView>(target, 'GET', path);
      if (json) printJson(session);
      else process.stdout.write(formatFields(fieldsOf(session)));
      return 0;
    }
    if (action === 'delete') {
      const result = await adminRequest<{ id: string; tenant: string; deleted: boolean }>(target, 'DELETE', path);
      if (json) printJson(result);
      else if (result.deleted) process.stdout.write(`deleted session ${result.id} (tenant ${result.tenant}); its sandbox is released\n`);
      // Another delete (an owner, another operator, a replica) won the race: nothing left to do.
      else process.stdout.write(`session ${result.id} was already deleted\n`);
      return 0;
    }
    throw new AdminError(SESSIONS_USAGE, 2);
  });
}

async function list(target: AdminTarget, flags: Flags, json: boolean): Promise<number> {
  if (flags.limit !== undefined && !/^\d{1,4}$/.test(flags.limit as string)) throw new AdminError(`--limit must be a number from 1 to ${MAX_PAGE_SIZE}`, 2);
  const query = new URLSearchParams();
  if (flags.tenant) query.set('tenant', flags.tenant as string);
  // --all walks every page (nextCursor until null), in the largest pages the API serves.
  if (flags.limit) query.set('limit', flags.limit as string);
  else if (flags.all) query.set('limit', String(MAX_PAGE_SIZE));
  let cursor = (flags.cursor as string | undefined) ?? null;
  const sessions: SessionView[] = [];
  let next: string | null = null;
  for (let page = 0; page < (flags.all ? MAX_PAGES : 1); page++) {
    if (cursor !== null) query.set('cursor', cursor);
    const result = await adminRequest<SessionPage>(target, 'GET', `/admin/sessions?${query}`);
    sessions.push(...result.sessions);
    next = result.nextCursor;
    // A cursor that does not advance would repeat the same page; stop rather than loop.
    if (next === null || next === cursor) break;
    cursor = next;
  }
  if (json) {
    printJson({ sessions, nextCursor: next });
    return 0;
  }
  if (sessions.length === 0) process.stdout.write('no sessions\n');
  else {
    const rows = sessions.map((s) => [s.id, s.tenant, s.profile, String(s.turns), s.sandbox?.sandboxId ?? '-', shortTime(s.lastActivityAt), shortTime(s.createdAt)]);
    process.stdout.write(formatTable(['ID', 'TENANT', 'PROFILE', 'TURNS', 'SANDBOX', 'LAST ACTIVE', 'CREATED'], rows));
  }
  // On stderr, so the table on stdout stays exactly the rows.
  if (next !== null) process.stderr.write(`more sessions: berth sessions list --cursor ${next}${flags.tenant ? ` --tenant ${flags.tenant as string}` : ''} (or --all)\n`);
  return 0;
}

function fieldsOf(s: SessionView): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    ['id', s.id],
    ['tenant', s.tenant],
    ['profile', s.profile],
    ['turns', String(s.turns)],
    ['created', shortTime(s.createdAt)],
    ['last active', shortTime(s.lastActivityAt)],
    ['sdk session', s.sdkSessionId ?? '-'],
    ['sandbox', s.sandbox ? `${s.sandbox.sandboxId} (profile ${s.sandbox.profile}, claimed ${shortTime(s.sandbox.claimedAt)})` : '-'],
  ];
  if (s.usage) fields.push(['tokens', `input ${s.usage.inputTokens}, output ${s.usage.outputTokens}, cache write ${s.usage.cacheCreationInputTokens}, cache read ${s.usage.cacheReadInputTokens}`]);
  return fields;
}
