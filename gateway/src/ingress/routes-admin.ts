// The operator API under /admin, for admin tokens only (tenants get 403): every tenant's
// sessions (one bounded page at a time), one session, deleting one (its sandbox is released),
// pool status, usage per tenant, and a dry-run check of a tenants file. Each answer costs what it
// returns: usage is read as one session's counters, one page of a tenant's sessions, or each
// tenant's totals and session count, never a tenant's every session. app.ts authenticates
// /admin first; the `berth` CLI (cli/src/commands/sessions.ts, pool.ts, usage.ts, tenants.ts) is
// its client.
// It never shows a sandbox's URL or auth token, and it does not change the tenants file.

import express, { Router, type RequestHandler } from 'express';
import { BerthError } from '@berth/protocol';
import type { SessionRecord } from '../store/session-records.js';
import { findTenant } from '../tenants/tenant.js';
import { parseTenants, TenantsFileError } from '../tenants/tenants-file.js';
import type { IngressContext } from './context.js';
import { principalOf } from './auth-middleware.js';
import { encodeIdCursor, encodeTenantCursor, idCursorParam, tenantCursorParam } from './listing-cursor.js';
import { pageLimitParam, sessionIdParam } from './request-input.js';
import { sessionView } from './routes-sessions.js';
import { usagePageQuery, usagePageView } from './usage-report.js';

/**
 * Largest tenants file POST /admin/tenants/check accepts, in bytes. 1 MiB holds thousands of
 * tenants; the bound keeps one request from making the gateway parse an arbitrarily large YAML.
 */
export const MAX_TENANTS_FILE_BYTES = 1024 * 1024;

const TENANT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Security control: admin routes refuse every principal but an admin (after authentication). */
export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (principalOf(res).kind !== 'admin') throw new BerthError('forbidden', 'admin routes need an admin token');
  next();
};

export function adminRoutes(ctx: IngressContext): Router {
  const router = Router();

  // Every listing is one bounded page from an index (store/session-listing.ts): every tenant's
  // sessions in id order, or with ?tenant= that tenant's, newest first. ?limit (default 100, at
  // most 1000) and the opaque ?cursor of the previous page's nextCursor.
  router.get('/admin/sessions', async (req, res) => {
    const limit = pageLimitParam(req.query.limit);
    const tenant = tenantParam(req.query.tenant);
    if (tenant === undefined) {
      const page = await ctx.store.listing.listAllSessions({ cursor: idCursorParam(req.query.cursor), limit });
      res.json({ sessions: page.sessions.map(adminSessionView), nextCursor: page.nextCursor && encodeIdCursor(page.nextCursor) });
      return;
    }
    const page = await ctx.store.listing.listSessions(tenant, { after: tenantCursorParam(req.query.cursor), limit });
    res.json({ sessions: page.sessions.map(adminSessionView), nextCursor: page.next && encodeTenantCursor(page.next) });
  });

  router.get('/admin/sessions/:id', async (req, res) => {
    const session = await requireSession(ctx, sessionIdParam(req.params.id));
    res.json({ ...adminSessionView(session), usage: await ctx.store.usage.sessionUsage(session.tenant, session.id) });
  });

  router.delete('/admin/sessions/:id', async (req, res) => {
    const session = await requireSession(ctx, sessionIdParam(req.params.id));
    // The owner's delete path: removes the record, then releases the sandbox; then, as the owner's
    // DELETE does, frees the tenant's session slot (a tenant gone from the file has no slots).
    const deleted = await ctx.sessions.delete(session.tenant, session.id);
    const tenant = findTenant(ctx.tenants(), session.tenant);
    if (deleted && tenant) await ctx.quotas.sessionReleased(tenant, session.id);
    res.json({ id: session.id, tenant: session.tenant, deleted });
  });

  router.get('/admin/pool', async (_req, res) => {
    res.json({ backend: ctx.backend.kind, pools: await ctx.backend.pool() });
  });

  // With ?tenant=: its totals and one page of its sessions' counters, paged as GET /api/usage
  // pages them (?limit default 100, at most 1000; ?cursor). Without: each tenant's totals and
  // session count, from tenant-level counters and the ledger's session index.
  router.get('/admin/usage', async (req, res) => {
    const tenant = tenantParam(req.query.tenant);
    if (tenant !== undefined) {
      const page = await ctx.store.usage.usagePage(tenant, usagePageQuery(req.query));
      res.json({ usage: [{ tenant, ...usagePageView(page) }] });
      return;
    }
    if (req.query.limit !== undefined || req.query.cursor !== undefined) {
      throw new BerthError('invalid_body', '?limit and ?cursor page one tenant\'s sessions: add ?tenant=');
    }
    // Every tenant the tenants file names now: bounded by the file, one small store read each.
    const names = [...ctx.tenants().tenants.keys()].sort();
    const summaries = await Promise.all(names.map((name) => ctx.store.usage.usageSummary(name)));
    res.json({ usage: names.map((name, i) => ({ tenant: name, total: summaries[i]!.tenant, sessionCount: summaries[i]!.sessionCount })) });
  });

  const text = express.text({ type: () => true, limit: MAX_TENANTS_FILE_BYTES });
  router.post('/admin/tenants/check', text, (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'string') throw new BerthError('invalid_body', 'send the tenants file (YAML text) as the body');
    try {
      const directory = parseTenants(body);
      const known = new Set(ctx.backend.profiles().map((p) => p.name));
      // Not a problem of the file itself (profiles are the gateway's config), so a warning.
      const warnings = [...directory.tenants.values()]
        .filter((t) => !known.has(t.sandboxProfile))
        .map((t) => `tenants.${t.name}.sandboxProfile: this gateway has no profile ${JSON.stringify(t.sandboxProfile)}`);
      res.json({ ok: true, problems: [], warnings, tenants: [...directory.tenants.keys()], adminTokens: directory.adminTokenHashes.length });
    } catch (error) {
      if (!(error instanceof TenantsFileError)) throw error;
      res.json({ ok: false, problems: error.problems, warnings: [] });
    }
  });

  return router;
}

/** What an operator sees of a session: the caller's view plus the sandbox id (never URL or token). */
export function adminSessionView(session: SessionRecord): Record<string, unknown> {
  const view = sessionView(session);
  return {
    ...view,
    sdkSessionId: session.sdkSessionId,
    sandbox: session.sandbox ? { ...(view.sandbox as object), sandboxId: session.sandbox.sandboxId } : null,
  };
}

async function requireSession(ctx: IngressContext, sessionId: string): Promise<SessionRecord> {
  const session = await ctx.store.sessions.getSession(sessionId);
  if (!session) throw new BerthError('session_not_found', `no session ${sessionId}`);
  return session;
}

function tenantParam(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !TENANT_NAME.test(raw)) throw new BerthError('invalid_body', '?tenant must be a tenant name (lowercase letters, digits, _ and -)');
  return raw;
}
