// BerthClient: one method per route of berth's caller API, plus `admin` for the operator API
// (admin.ts). Streams come back as BerthEventStream (event-stream.ts): typed events that survive
// cuts. Everything a call can throw is a BerthApiError (errors.ts), except a caller's abort,
// which rejects with the signal's reason. The client holds no connection state between calls:
// one instance may serve many sessions at once.

import { BerthAdmin } from './admin.js';
import { DEFAULT_IDLE_TIMEOUT_MS, BerthEventStream, type StreamOptions } from './event-stream.js';
import { requestJson, segment, send, type TokenSource, type Transport } from './http.js';
import { walkPages } from './paging.js';
import type {
  ApprovalAnswer, ApprovalResult, DeleteResult, EventPage, HealthStatus, InterruptResult, PoolView, SessionPage, SessionUsage, SessionView, UsageView,
} from './views.js';

export interface BerthClientOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  baseUrl: string;
  /** A bearer token, or a function returning one per request (for JWTs that rotate). */
  token: TokenSource;
  /** Default: the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Extra headers on every request (never put the token here). */
  headers?: Record<string, string>;
  /** Defaults for every stream; a call's own options win. */
  stream?: Pick<StreamOptions, 'reconnect' | 'idleTimeoutMs' | 'limits'>;
}

export interface PageOptions {
  /** Sessions per page (the gateway's default is 100, its maximum 1000). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
  signal?: AbortSignal;
}

export interface EventsOptions extends StreamOptions {
  /** Start right after this frame id (else at the current or last turn's `turn` frame). */
  lastEventId?: string;
  /** Keep tailing across turns instead of ending after the turn's terminal event. */
  follow?: boolean;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export class BerthClient {
  readonly admin: BerthAdmin;
  private readonly transport: Transport;
  private readonly streamDefaults: Pick<StreamOptions, 'reconnect' | 'idleTimeoutMs' | 'limits'>;

  constructor(options: BerthClientOptions) {
    if (typeof (options.fetch ?? globalThis.fetch) !== 'function') throw new TypeError('BerthClient needs a fetch implementation (Node.js ≥ 18 has one built in)');
    // Called as a plain function: browsers refuse a global fetch invoked as another object's method.
    const fetchImpl: typeof globalThis.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.transport = { baseUrl: options.baseUrl, token: options.token, fetch: fetchImpl, headers: options.headers ?? {} };
    this.streamDefaults = { idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS, ...options.stream };
    this.admin = new BerthAdmin(this.transport);
  }

  /**
   * Sends a prompt and streams the turn: `turn`, `message`s (SDK messages), approvals, then one
   * `done` or `error`. The first message on an unknown id creates the session. The turn runs on
   * the server whatever happens to this stream; a cut is resumed from the last frame received.
   * Throws BerthApiError for refusals before the stream (403 another tenant's session, 409 a
   * turn already running, 429 quotas with retryAfterS). Not retried itself: a POST that fails
   * before its first frame may or may not have started the turn (check getSession).
   */
  sendMessage(sessionId: string, prompt: string, options: StreamOptions = {}): BerthEventStream {
    const path = `/sessions/${segment(sessionId)}/messages`;
    return new BerthEventStream(
      {
        what: `POST ${path}`,
        first: (signal) => send(this.transport, { method: 'POST', path, json: { prompt }, headers: { accept: 'text/event-stream' }, signal }),
        resume: (lastEventId, signal) => this.openEvents(sessionId, lastEventId, false, signal),
        firstIsRetriable: false,
        follow: false,
      },
      { ...this.streamDefaults, ...options },
    );
  }

  /**
   * The rest of the turn after `lastEventId` (a BerthEventStream's `lastEventId`, or an event's
   * `id`), exactly once, to its terminal event; nothing (an empty stream) when that id was the
   * terminal one. An id the log no longer holds gives one `error` event with code replay_gap.
   */
  resume(sessionId: string, lastEventId: string, options: StreamOptions = {}): BerthEventStream {
    return this.events(sessionId, { ...options, lastEventId });
  }

  /**
   * Tails GET /sessions/{id}/events: from `lastEventId`, or from the current (or last) turn's
   * start; ends after that turn's terminal event (or with nothing, on 204), or with `follow`
   * keeps tailing across turns until aborted. Reconnects with Last-Event-ID across cuts.
   */
  events(sessionId: string, options: EventsOptions = {}): BerthEventStream {
    const { lastEventId, follow = false, ...streamOptions } = options;
    return new BerthEventStream(
      {
        what: `GET /sessions/${sessionId}/events`,
        first: (signal) => this.openEvents(sessionId, lastEventId, follow, signal),
        resume: (id, signal) => this.openEvents(sessionId, id, follow, signal),
        firstIsRetriable: true,
        follow,
        ...(lastEventId !== undefined ? { lastEventId } : {}),
      },
      { ...this.streamDefaults, ...streamOptions },
    );
  }

  /** One page of the session's stored frames, oldest first, after `after` (GET …/events?format=json). */
  eventPage(sessionId: string, options: { after?: string; limit?: number; signal?: AbortSignal } = {}): Promise<EventPage> {
    return requestJson(this.transport, {
      method: 'GET',
      path: `/sessions/${segment(sessionId)}/events`,
      query: { format: 'json', after: options.after, limit: options.limit },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** One page of the caller's sessions. */
  async listSessions(options: PageOptions = {}): Promise<SessionPage> {
    const page = await requestJson<{ sessions: SessionView[]; nextCursor?: string | null }>(this.transport, {
      method: 'GET',
      path: '/sessions',
      query: { limit: options.limit, cursor: options.cursor },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { sessions: page.sessions, nextCursor: page.nextCursor ?? null };
  }

  /** Every session of the caller, page by page (`limit` per request). */
  sessions(options: Omit<PageOptions, 'cursor'> = {}): AsyncGenerator<SessionView, void, undefined> {
    return walkPages((cursor) => this.listSessions({ ...options, ...(cursor !== undefined ? { cursor } : {}) }));
  }

  getSession(sessionId: string, options: CallOptions = {}): Promise<SessionView> {
    return requestJson(this.transport, { method: 'GET', path: `/sessions/${segment(sessionId)}`, ...options });
  }

  /** Owner only; an absent id is a no-op with `deleted: false`. Releases the sandbox. */
  deleteSession(sessionId: string, options: CallOptions = {}): Promise<DeleteResult> {
    return requestJson(this.transport, { method: 'DELETE', path: `/sessions/${segment(sessionId)}`, ...options });
  }

  /** Stops the running turn (its stream ends with stopReason `interrupted`); `{interrupted: false}` when idle. */
  interrupt(sessionId: string, options: CallOptions = {}): Promise<InterruptResult> {
    return requestJson(this.transport, { method: 'POST', path: `/sessions/${segment(sessionId)}/interrupt`, ...options });
  }

  /**
   * Answers an `approval_request` event. 404 approval_not_found once it is resolved (answered,
   * timed out, or the turn ended), so answering twice is safe to detect.
   */
  answerApproval(sessionId: string, requestId: string, answer: ApprovalAnswer, options: CallOptions = {}): Promise<ApprovalResult> {
    return requestJson(this.transport, { method: 'POST', path: `/sessions/${segment(sessionId)}/approvals/${segment(requestId)}`, json: answer, ...options });
  }

  pool(options: CallOptions = {}): Promise<PoolView> {
    return requestJson(this.transport, { method: 'GET', path: '/api/pool', ...options });
  }

  /**
   * The caller's token totals, one page of its sessions' counters (session-id order) and its
   * budget window (`budget` null without a token budget). `total` and `budget` are on every page.
   */
  async usage(options: PageOptions = {}): Promise<UsageView> {
    const view = await requestJson<Omit<UsageView, 'nextCursor' | 'budget'> & Partial<Pick<UsageView, 'nextCursor' | 'budget'>>>(this.transport, {
      method: 'GET',
      path: '/api/usage',
      query: { limit: options.limit, cursor: options.cursor },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { ...view, nextCursor: view.nextCursor ?? null, budget: view.budget ?? null };
  }

  /** Every session's counters of the caller, page by page (`limit` per request). */
  usageSessions(options: Omit<PageOptions, 'cursor'> = {}): AsyncGenerator<SessionUsage, void, undefined> {
    return walkPages(async (cursor) => {
      const page = await this.usage({ ...options, ...(cursor !== undefined ? { cursor } : {}) });
      return { sessions: Object.entries(page.sessions).map(([sessionId, usage]) => ({ sessionId, usage })), nextCursor: page.nextCursor };
    });
  }

  /** GET /healthz: the gateway process runs. */
  health(options: CallOptions = {}): Promise<HealthStatus> {
    return requestJson(this.transport, { method: 'GET', path: '/healthz', ...options });
  }

  /** GET /readyz: it can serve; throws 503 (draining, store_unavailable, backend_unavailable) otherwise. */
  ready(options: CallOptions = {}): Promise<HealthStatus> {
    return requestJson(this.transport, { method: 'GET', path: '/readyz', ...options });
  }

  private openEvents(sessionId: string, lastEventId: string | undefined, follow: boolean, signal: AbortSignal): Promise<Response> {
    return send(this.transport, {
      method: 'GET',
      path: `/sessions/${segment(sessionId)}/events`,
      query: { follow: follow ? 1 : undefined },
      headers: { accept: 'text/event-stream', ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
      signal,
    });
  }
}


