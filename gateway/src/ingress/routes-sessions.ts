// The caller API's session routes (design.md, "Caller API"): send a message (SSE), resume a
// stream, delete, get, list. Each route authenticates first (app.ts), spends a rate token,
// validates, then hands the work to the session layer (sessions/turn-runner.ts for a message)
// and maps its outcome to HTTP. Tenant quotas: quotas/*.ts.

import express, { Router } from 'express';
import { BerthError } from '@berth/protocol';
import type { SessionRecord } from '../store/session-records.js';
import type { Tenant } from '../tenants/tenant.js';
import type { IngressContext } from './context.js';
import { tenantOf } from './auth-middleware.js';
import { promptOf, sessionIdParam } from './request-input.js';
import { SseResponse } from './sse-response.js';
import { resumeStream } from './stream-resume.js';

export function sessionRoutes(ctx: IngressContext): Router {
  const router = Router();
  // Any content type is parsed as JSON: the cookbook's curl line sends -d without a content type.
  const json = express.json({ limit: ctx.maxBodyBytes, type: () => true });

  // Every tenant request under /sessions spends one token of the tenant's rate bucket (429
  // rate_limited when empty). Runs after authentication (app.ts), before any route.
  router.use('/sessions', async (_req, res, next) => {
    await ctx.quotas.checkRequest(tenantOf(res, ctx.tenants()));
    next();
  });

  router.post('/sessions/:id/messages', json, async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const lastEventId = req.headers['last-event-id'];
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      // A client retrying its POST after a dropped connection resumes instead of starting a turn.
      await requireOwned(ctx, tenant, sessionId);
      return resumeStream(ctx.store.replay, sessionId, lastEventId.slice(0, 128), res);
    }
    const prompt = promptOf(req.body);
    const callerGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) callerGone.abort();
    });
    const outcome = await ctx.turns.run({
      tenant,
      sessionId,
      prompt,
      caller: { signal: callerGone.signal, open: () => new SseResponse(res) },
    });
    // A streamed turn has answered already; an abandoned one has nobody left to answer.
    if (outcome.kind === 'refused') throw outcome.error;
  });

  router.get('/sessions/:id/stream', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const lastEventId = req.headers['last-event-id'] ?? req.query.lastEventId;
    if (typeof lastEventId !== 'string' || lastEventId === '') throw new BerthError('invalid_body', 'send the Last-Event-ID header of the last frame you received');
    await requireOwned(ctx, tenant, sessionId);
    await resumeStream(ctx.store.replay, sessionId, lastEventId.slice(0, 128), res);
  });

  router.get('/sessions/:id', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    res.json(sessionView(await requireOwned(ctx, tenant, sessionIdParam(req.params.id))));
  });

  router.delete('/sessions/:id', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const deleted = await ctx.sessions.delete(tenant.name, sessionId);
    if (deleted) await ctx.quotas.sessionReleased(tenant, sessionId);
    res.json({ id: sessionId, deleted, status: 'deleted' }); // status: the cookbook gateway's field, for its clients
  });

  router.get('/sessions', async (_req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessions = await ctx.store.listing.listSessions(tenant.name);
    res.json({ sessions: sessions.map(sessionView) });
  });

  return router;
}

async function requireOwned(ctx: IngressContext, tenant: Tenant, sessionId: string): Promise<SessionRecord> {
  const owned = await ctx.store.sessions.checkAndTouch(sessionId, tenant.name, ctx.now());
  if (owned.kind === 'absent') throw new BerthError('session_not_found', `no session ${sessionId}`);
  if (owned.kind === 'forbidden') throw new BerthError('forbidden', 'this session belongs to another tenant');
  // checkAndTouch restarted the reaper's idle clock, so the session's quota slot follows it.
  await ctx.quotas.sessionTouched(tenant, owned.session);
  return owned.session;
}

/** What a caller may see of a session: never the sandbox URL or its token. */
export function sessionView(session: SessionRecord): Record<string, unknown> {
  return {
    id: session.id,
    tenant: session.tenant,
    profile: session.profile,
    createdAt: new Date(session.createdAt).toISOString(),
    lastActivityAt: new Date(session.lastActivityAt).toISOString(),
    turns: session.turns,
    sandbox: session.sandbox ? { profile: session.sandbox.profile, claimedAt: new Date(session.sandbox.claimedAt).toISOString() } : null,
  };
}
