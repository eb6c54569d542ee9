// The caller API's session routes (design.md, "Caller API"): send a message (SSE), resume or
// follow a session's stream, delete, get, list. Each route authenticates first (app.ts), spends a
// rate token, validates, then hands the work to the session layer (sessions/turn-runner.ts for a
// message) and maps its outcome to HTTP. Every stream a caller reads is served from the session's
// event log (event-tail.ts), so a caller may drop and come back, on any replica.
// Interrupt and approvals: routes-session-control.ts. Tenant quotas: quotas/*.ts.

import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { BerthError } from '@berth/protocol';
import { isTerminalEvent, MAX_EVENT_READ, parseFrameId, type EventCursor, type LoggedFrame } from '../store/event-log.js';
import type { SessionRecord } from '../store/session-records.js';
import { IDLE_TURN_STATE, type TurnState } from '../store/turn-ledger.js';
import type { Tenant } from '../tenants/tenant.js';
import type { IngressContext } from './context.js';
import { tenantOf } from './auth-middleware.js';
import { tailEvents } from './event-tail.js';
import { encodeTenantCursor, tenantCursorParam } from './listing-cursor.js';
import { pageLimitParam, promptOf, sessionIdParam } from './request-input.js';
import { SseResponse } from './sse-response.js';

/** Default page of GET /sessions/{id}/events?format=json. */
export const DEFAULT_EVENT_PAGE = 100;

export function sessionRoutes(ctx: IngressContext): Router {
  const router = Router();
  // Any content type is parsed as JSON: the cookbook's curl line sends -d without a content type.
  const json = express.json({ limit: ctx.maxBodyBytes, type: () => true });

  // Every tenant request on a session route spends one token of the tenant's rate bucket (429
  // rate_limited when empty): the routes on one session in the SessionGate's round trip
  // (requireOwned), the others (a new turn, delete, the listing) here, before the body is read.
  const spendRate: RequestHandler = async (_req, res, next) => {
    await ctx.quotas.checkRequest(tenantOf(res, ctx.tenants()));
    next();
  };

  router.post('/sessions/:id/messages', spendRate, json, async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const lastEventId = lastEventIdOf(req);
    if (lastEventId !== undefined) {
      // A client retrying its POST after a dropped connection resumes instead of starting a turn.
      await requireOwned(ctx, tenant, sessionId, { rateSpent: true });
      return streamFrom(ctx, req, res, sessionId, { after: lastEventId }, false);
    }
    const outcome = await ctx.turns.start({ tenant, sessionId, prompt: promptOf(req.body) });
    if (outcome.kind === 'refused') throw outcome.error;
    // The turn runs detached; this response is one reader of its log. Its `turn` frame is stored
    // already, so it goes out with the head, and the tail reads on from right after it.
    return streamFrom(ctx, req, res, sessionId, { after: outcome.first.id }, false, outcome.first);
  });

  router.get('/sessions/:id/stream', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const lastEventId = lastEventIdOf(req) ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId.slice(0, 128) : undefined);
    if (lastEventId === undefined || lastEventId === '') throw new BerthError('invalid_body', 'send the Last-Event-ID header of the last frame you received');
    await requireOwned(ctx, tenant, sessionId);
    await streamFrom(ctx, req, res, sessionId, { after: lastEventId }, false);
  });

  // EventSource semantics: no Last-Event-ID starts at the current (or last) turn's `turn` frame;
  // with one (or ?after=), right after it; a reconnect past a finished turn's terminal frame gets
  // 204 (the spec's "stop reconnecting"); ?follow=1 keeps tailing across turns.
  router.get('/sessions/:id/events', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    await requireOwned(ctx, tenant, sessionId);
    const after = lastEventIdOf(req) ?? (typeof req.query.after === 'string' && req.query.after !== '' ? req.query.after.slice(0, 128) : undefined);
    if (req.query.format === 'json') return eventPage(ctx, req, res, sessionId, after);
    const follow = req.query.follow === '1' || req.query.follow === 'true';
    if (after !== undefined) {
      if (!follow && (await endsAt(ctx, sessionId, after))) return void res.status(204).end();
      return streamFrom(ctx, req, res, sessionId, { after }, follow);
    }
    const last = await ctx.events.last(sessionId);
    const lastTurn = last ? parseFrameId(last)?.turn : undefined;
    if (lastTurn === undefined) {
      if (!follow) return void res.status(204).end();
      return streamFrom(ctx, req, res, sessionId, null, true);
    }
    return streamFrom(ctx, req, res, sessionId, { at: `${lastTurn}:0` }, follow);
  });

  router.get('/sessions/:id', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    // One store round trip: the gate reads the turn state with the ownership check.
    const { session, turn } = await enterSession(ctx, tenant, sessionIdParam(req.params.id));
    res.json(sessionView(session, turn));
  });

  router.delete('/sessions/:id', spendRate, async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const deleted = await ctx.sessions.delete(tenant.name, sessionId);
    if (deleted) await ctx.quotas.sessionReleased(tenant, sessionId);
    res.json({ id: sessionId, deleted, status: 'deleted' }); // status: the cookbook gateway's field, for its clients
  });

  // One page, newest first, from the tenant's own index (store/session-listing.ts): what a
  // request costs does not grow with the tenant's sessions. ?limit (default 100, at most 1000)
  // and the opaque ?cursor a previous page returned as nextCursor (null on the last page).
  router.get('/sessions', spendRate, async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const limit = pageLimitParam(req.query.limit);
    const after = tenantCursorParam(req.query.cursor);
    const page = await ctx.store.listing.listSessions(tenant.name, { after, limit });
    const states = await ctx.ledger.getMany(page.sessions.map((s) => s.id));
    res.json({ sessions: page.sessions.map((s, i) => sessionView(s, states[i])), nextCursor: page.next && encodeTenantCursor(page.next) });
  });

  return router;
}

function lastEventIdOf(req: Request): string | undefined {
  const value = req.headers['last-event-id'];
  return typeof value === 'string' && value !== '' ? value.slice(0, 128) : undefined;
}

/** True when `id` is a terminal frame the log holds: a stream from there has nothing left. */
async function endsAt(ctx: IngressContext, sessionId: string, id: string): Promise<boolean> {
  const read = await ctx.events.read(sessionId, { at: id }, 1);
  const frame = read.kind === 'frames' ? read.frames[0] : undefined;
  return frame !== undefined && frame.id === id && isTerminalEvent(frame.event);
}

async function streamFrom(ctx: IngressContext, req: Request, res: Response, sessionId: string, cursor: EventCursor | null, follow: boolean, first?: LoggedFrame): Promise<void> {
  const sink = new SseResponse(res);
  if (first) sink.send(first);
  const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
  ctx.metrics.streamsOpen.inc();
  try {
    await tailEvents({ events: ctx.events, sessionId, cursor, sink, follow, closed, active: ctx.streams, ...(first ? { sent: first.id } : {}) });
  } finally {
    ctx.metrics.streamsOpen.dec();
    void req;
  }
}

async function eventPage(ctx: IngressContext, req: Request, res: Response, sessionId: string, after: string | undefined): Promise<void> {
  const requested = typeof req.query.limit === 'string' ? Number(req.query.limit) : DEFAULT_EVENT_PAGE;
  if (!Number.isInteger(requested) || requested < 1 || requested > MAX_EVENT_READ) {
    throw new BerthError('invalid_body', `limit must be an integer from 1 to ${MAX_EVENT_READ}`);
  }
  const read = await ctx.events.read(sessionId, after === undefined ? null : { after }, requested);
  if (read.kind === 'gap') throw new BerthError('replay_gap', `event ${JSON.stringify(after?.slice(0, 64))} is not in the session event log (unknown, or older than its retention); start again without after=`);
  const events = read.frames.map((f) => ({ id: f.id, event: f.event, data: parseData(f.data) }));
  const nextAfter = events.at(-1)?.id ?? after ?? null;
  res.json({ events, nextAfter, last: read.last });
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/**
 * The caller's session, through the SessionGate: its rate token (unless `rateSpent`), ownership,
 * activity stamp, lease renewal and turn state in one store call. Throws 429, 404 or 403.
 */
export async function enterSession(ctx: IngressContext, tenant: Tenant, sessionId: string, options: { rateSpent?: boolean } = {}): Promise<{ session: SessionRecord; turn: TurnState }> {
  const { rate, sessionLeaseTtlMs } = ctx.quotas.gateLimits(tenant);
  const entered = await ctx.gate.enter({
    sessionId,
    tenant: tenant.name,
    now: ctx.now(),
    ...(rate && !options.rateSpent ? { rate } : {}),
    ...(sessionLeaseTtlMs !== undefined ? { sessionLeaseTtlMs } : {}),
  });
  if (entered.kind === 'rate_limited') ctx.quotas.refuseRate(tenant, entered.retryAfterMs);
  if (entered.kind === 'absent') throw new BerthError('session_not_found', `no session ${sessionId}`);
  if (entered.kind === 'forbidden') throw new BerthError('forbidden', 'this session belongs to another tenant');
  return entered;
}

export async function requireOwned(ctx: IngressContext, tenant: Tenant, sessionId: string, options: { rateSpent?: boolean } = {}): Promise<SessionRecord> {
  return (await enterSession(ctx, tenant, sessionId, options)).session;
}

/** What a caller may see of a session: never the sandbox URL or its token. */
export function sessionView(session: SessionRecord, state: TurnState = IDLE_TURN_STATE): Record<string, unknown> {
  return {
    id: session.id,
    tenant: session.tenant,
    profile: session.profile,
    createdAt: new Date(session.createdAt).toISOString(),
    lastActivityAt: new Date(session.lastActivityAt).toISOString(),
    turns: session.turns,
    status: state.status,
    currentTurn: state.currentTurn,
    lastStopReason: state.lastStopReason,
    sandbox: session.sandbox ? { profile: session.sandbox.profile, claimedAt: new Date(session.sandbox.claimedAt).toISOString() } : null,
  };
}
