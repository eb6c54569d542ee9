// The caller API's session routes (design.md, "Caller API"): send a message (SSE), resume a
// stream, delete, get, list. Each route authenticates first (app.ts), spends a rate token,
// validates, then works through SessionService and the relay. Tenant quotas: quotas/*.ts.

import express, { Router } from 'express';
import { BerthError } from '@berth/protocol';
import type { SessionRecord } from '../store/route-store.js';
import type { Tenant } from '../tenants/tenant.js';
import type { ActiveStream, IngressContext } from './context.js';
import { tenantOf } from './auth-middleware.js';
import { openAgentTurn } from './agent-turn.js';
import { promptOf, sessionIdParam } from './request-input.js';
import { relayTurn } from './sse-relay.js';
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
      return resumeStream(ctx.store, sessionId, lastEventId.slice(0, 128), res);
    }
    const prompt = promptOf(req.body);
    if (ctx.draining()) throw new BerthError('draining', 'the gateway is shutting down; retry on another replica', { retryAfterS: 1 });
    await ctx.quotas.checkBudget(tenant);
    let session = await ctx.sessions.open(tenant, sessionId);
    // Turn slot first (cheap to give back), then the session slot; the finally below returns
    // the turn slot however this request ends, so an aborted or failed turn never leaks one.
    const turnSlot = await ctx.quotas.admitTurn(tenant, sessionId);
    try {
      const freshSessionSlot = await ctx.quotas.admitSession(tenant, session);
      try {
        await runTurn();
      } catch (error) {
        // Provisioning failed before a sandbox was bound: give the new slot back, unless a
        // concurrent request on this session bound one meanwhile (then the slot is its).
        if (freshSessionSlot && !(await ctx.store.getSession(sessionId).catch(() => null))?.sandbox) {
          await ctx.quotas.sessionReleased(tenant, sessionId);
        }
        throw error;
      }
    } finally {
      await turnSlot.release();
    }

    async function runTurn(): Promise<void> {
      const abort = new AbortController();
      // A caller disconnect aborts the turn (the e2e contract: no orphan CLI work). The relay
      // still ends the replay buffer with a terminal frame, so a resuming caller is told.
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      // Registered before provisioning, so a drain waits for a turn still claiming its sandbox too.
      let caller: SseResponse | undefined;
      let cutReason: string | undefined;
      let turnNumber = 0;
      const active: ActiveStream = {
        cut: (reason: string) => {
          cutReason = reason;
          caller?.finish({ id: `${turnNumber}:cut`, event: 'error', data: JSON.stringify({ message: reason, code: 'draining' }) });
          abort.abort();
        },
      };
      const stopIfAborted = (): boolean => {
        if (!abort.signal.aborted) return false;
        if (cutReason !== undefined) throw new BerthError('draining', cutReason, { retryAfterS: 1 });
        return true;
      };
      ctx.streams.add(active);
      try {
        await attempts();
      } catch (error) {
        // A turn cut before its stream began: whatever the abort broke, the answer is "draining".
        if (cutReason !== undefined && !res.headersSent) throw new BerthError('draining', cutReason, { retryAfterS: 1 });
        throw error;
      } finally {
        ctx.streams.delete(active);
      }

      async function attempts(): Promise<void> {
        // One retry: the first attempt may find the bound sandbox gone; the second runs on a fresh one.
        for (let attempt = 0; attempt < 2; attempt++) {
          const binding = await ctx.sessions.ensureSandbox(session, tenant);
          const turn = await openAgentTurn(binding, sessionId, prompt, { signal: abort.signal });
          if (stopIfAborted()) return;
          if (turn.kind === 'busy') throw new BerthError('turn_in_progress', 'wait for the running turn to end, or resume its stream with Last-Event-ID');
          if (turn.kind === 'failed') throw new BerthError('sandbox_failed', turn.detail);
          if (turn.kind === 'lost') {
            ctx.metrics.sandboxesLost.inc({ reason: 'unreachable' });
            await ctx.sessions.dropSandbox(sessionId, binding, turn.reason);
            session = { ...((await ctx.store.getSession(sessionId)) ?? session), sandbox: null };
            continue;
          }
          turnNumber = session.turns + 1;
          await ctx.store.updateSession(sessionId, { turns: turnNumber });
          await ctx.store.resetReplay(sessionId);
          if (stopIfAborted()) return;
          caller = new SseResponse(res);
          ctx.metrics.streamsOpen.inc();
          try {
            const end = await relayTurn({
              sessionId,
              turn: turnNumber,
              sdkSessionId: session.sdkSessionId,
              upstream: turn.response,
              caller,
              store: ctx.store,
              log: ctx.log,
              metrics: ctx.metrics,
              now: ctx.now,
              signal: abort.signal,
            });
            if (end.kind === 'broken') {
              ctx.metrics.sandboxesLost.inc({ reason: 'mid_turn' });
              await ctx.sessions.dropSandbox(sessionId, binding, 'stream broke mid-turn');
              await ctx.quotas.sessionReleased(tenant, sessionId);
            } else {
              // The session's slot lives on from its last use (the reaper's idle clock restarts too).
              await ctx.quotas.sessionTouched(tenant, { ...session, sandbox: binding }).catch(() => undefined);
            }
          } finally {
            ctx.metrics.streamsOpen.dec();
          }
          return;
        }
        throw new BerthError('sandbox_failed', 'the sandbox was lost twice while starting the turn; retry');
      }
    }
  });

  router.get('/sessions/:id/stream', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const lastEventId = req.headers['last-event-id'] ?? req.query.lastEventId;
    if (typeof lastEventId !== 'string' || lastEventId === '') throw new BerthError('invalid_body', 'send the Last-Event-ID header of the last frame you received');
    await requireOwned(ctx, tenant, sessionId);
    await resumeStream(ctx.store, sessionId, lastEventId.slice(0, 128), res);
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
    res.json({ id: sessionId, deleted });
  });

  router.get('/sessions', async (_req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessions = await ctx.store.listSessions(tenant.name);
    res.json({ sessions: sessions.map(sessionView) });
  });

  return router;
}

async function requireOwned(ctx: IngressContext, tenant: Tenant, sessionId: string): Promise<SessionRecord> {
  const owned = await ctx.store.checkAndTouch(sessionId, tenant.name, ctx.now());
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
