// Reads berth's SSE streams as typed events and keeps them going across cuts, EventSource-style:
// after a dropped connection, a silent one (no byte, not even a heartbeat, for idleTimeoutMs)
// or a replica that drains, it reconnects with Last-Event-ID to GET /sessions/{id}/events, so
// the caller sees every frame of the turn once and in order. It honours `retry:`, stops on 204
// (nothing after that id), backs off between consecutive failures and gives up after
// maxRetries of them, and stops at once when the caller's AbortSignal fires or the caller
// leaves the loop (the connection is cancelled). The HTTP requests themselves are the
// client's (client.ts); this module only sequences them.

import { BerthApiError, errorFromResponse, networkError } from './errors.js';
import { isKnownEvent, isTerminal, type BerthEvent } from './events.js';
import { DEFAULT_RECONNECT, reconnectDelayMs, RETRIABLE_STATUS, sleep, type ReconnectOptions } from './reconnect-policy.js';
import { SseLimitError, SseParser, type SseFrame, type SseLimits } from './sse-parser.js';

export interface StreamOptions {
  /** Aborting ends the iteration: the pending `next()` rejects with the signal's reason, like fetch. */
  signal?: AbortSignal;
  reconnect?: ReconnectOptions;
  /**
   * An open stream silent for this long, in ms, is treated as cut and resumed (the wait for the
   * response head is not bounded: a turn's 200 may wait for a sandbox to cold-start). Default 45 000:
   * three of the gateway's 15 s heartbeats, so one lost heartbeat does not reconnect, while a
   * half-open connection (a NAT or proxy that dropped it) is noticed within a minute.
   */
  idleTimeoutMs?: number;
  /** Bounds on one line and one frame of the stream. */
  limits?: SseLimits;
  /** Called before each reconnect (for logs and tests). */
  onReconnect?: (info: ReconnectInfo) => void;
}

export interface ReconnectInfo {
  /** 1 for the first retry after a failure, counting consecutive failures. */
  attempt: number;
  delayMs: number;
  lastEventId: string | undefined;
  error: BerthApiError;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/** How one stream opens its connections; client.ts builds these. */
export interface StreamPlan {
  /** What the stream is, for error messages ("POST /sessions/x/messages"). */
  what: string;
  /** The first request (a POST that starts a turn, or a GET of the event log). */
  first: (signal: AbortSignal) => Promise<Response>;
  /** A reconnect after `lastEventId` (undefined: the stream had no frame yet). */
  resume: (lastEventId: string | undefined, signal: AbortSignal) => Promise<Response>;
  /** Whether the first request may be repeated when it fails before any frame (a GET may; a POST that starts a turn may not). */
  firstIsRetriable: boolean;
  /** Keep reading past a turn's terminal event (a follow tail); else the stream ends there. */
  follow: boolean;
  lastEventId?: string;
}

/** Stream-level error frames (no stopReason: the turn goes on) after which a reconnect continues. */
const RECONNECT_CODES = new Set(['draining', 'store_unavailable']);

/**
 * A running stream of typed events: iterate it once with `for await`. `lastEventId` is the id
 * of the last frame received, for BerthClient.resume after the caller gave up on this one.
 */
export class BerthEventStream implements AsyncIterableIterator<BerthEvent> {
  private readonly generator: AsyncGenerator<BerthEvent, void, undefined>;
  private readonly state: { lastEventId: string | undefined };

  constructor(plan: StreamPlan, options: StreamOptions = {}) {
    this.state = { lastEventId: plan.lastEventId };
    this.generator = run(plan, options, this.state);
  }

  get lastEventId(): string | undefined {
    return this.state.lastEventId;
  }

  next(): Promise<IteratorResult<BerthEvent, void>> {
    return this.generator.next();
  }

  return(): Promise<IteratorResult<BerthEvent, void>> {
    return this.generator.return(undefined);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Reads the whole stream into an array (for short turns and tests). */
  async toArray(): Promise<BerthEvent[]> {
    const events: BerthEvent[] = [];
    for await (const event of this) events.push(event);
    return events;
  }
}

async function* run(plan: StreamPlan, options: StreamOptions, state: { lastEventId: string | undefined }): AsyncGenerator<BerthEvent, void, undefined> {
  const reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const signal = options.signal;
  let retryMs: number | undefined;
  let failures = 0;
  let first = true;

  for (;;) {
    signal?.throwIfAborted();
    // One connection: its own controller, cancelled by the caller's signal, the idle timer, or our finally.
    const conn = new AbortController();
    const onAbort = (): void => conn.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idled = false;
    const armIdle = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idled = true;
        conn.abort();
      }, idleTimeoutMs);
    };
    const disarmIdle = (): void => clearTimeout(idleTimer);
    let failure: BerthApiError | undefined;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    const wasFirst = first;
    first = false;
    try {
      let res: Response | undefined;
      try {
        // No idle bound before the answer: a POST's 200 waits for a sandbox, which may cold-start.
        res = wasFirst ? await plan.first(conn.signal) : await plan.resume(state.lastEventId, conn.signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (!(error instanceof BerthApiError)) throw error;
        failure = error;
      }
      if (res && res.status === 204) return; // Nothing after this id: the EventSource "stop".
      if (res && !res.ok) {
        const error = await errorFromResponse(res);
        if (!RETRIABLE_STATUS.has(res.status)) throw error;
        failure = error;
      } else if (res && !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        void res.body?.cancel().catch(() => undefined);
        throw new BerthApiError({ status: res.status, code: 'unexpected_response', title: 'The answer is not an event stream', detail: `content-type ${res.headers.get('content-type') ?? 'none'}` });
      } else if (res) {
        if (!res.body) throw new BerthApiError({ status: res.status, code: 'unexpected_response', title: 'The event stream has no body' });
        reader = res.body.getReader();
        armIdle();
        const parser = new SseParser(options.limits);
        parser.lastEventId = state.lastEventId ?? '';
        reading: for (;;) {
          let chunk: Uint8Array;
          try {
            const read = await reader.read();
            if (read.done) break;
            chunk = read.value;
          } catch (error) {
            if (signal?.aborted) throw signal.reason;
            failure = idled ? cutError(plan, `no byte for ${idleTimeoutMs} ms`) : networkError(error, plan.what);
            break;
          }
          armIdle();
          let frames: SseFrame[];
          try {
            frames = parser.push(chunk);
          } catch (error) {
            if (!(error instanceof SseLimitError)) throw error;
            throw new BerthApiError({ status: res.status, code: 'stream_limit', title: 'An event-stream frame exceeded the client limits', detail: error.message, cause: error });
          }
          retryMs = parser.retryMs ?? retryMs;
          for (const frame of frames) {
            failures = 0;
            if (frame.id !== '') state.lastEventId = frame.id;
            const event = toEvent(frame);
            if (!event) continue;
            if (event.event === 'error' && event.data.stopReason === undefined && RECONNECT_CODES.has(event.data.code)) {
              // The replica stops serving (drain) or lost its store: the turn goes on; resume elsewhere.
              failure = new BerthApiError({ status: res.status, code: event.data.code, title: 'The stream was cut by the gateway', detail: event.data.message });
              break reading;
            }
            disarmIdle(); // The caller may take its time with an event (an approval) without us calling the connection dead.
            yield event;
            armIdle();
            // A turn's end closes a non-follow stream; a stream-level error (replay_gap) closes any.
            if (isTerminal(event) && (!plan.follow || (event.event === 'error' && event.data.stopReason === undefined))) return;
          }
        }
        failure ??= cutError(plan, 'the connection ended before the turn did');
      }
    } finally {
      disarmIdle();
      signal?.removeEventListener('abort', onAbort);
      if (reader) void reader.cancel().catch(() => undefined);
      conn.abort();
    }

    // Decide whether and when to try again.
    if (!failure) throw cutError(plan, 'the stream failed');
    if (wasFirst && !plan.firstIsRetriable && state.lastEventId === undefined) {
      // A POST that started a turn, cut before its first frame: which turn it started is unknown.
      throw failure;
    }
    failures++;
    const delayMs = reconnectDelayMs(reconnect, failures, retryMs, failure);
    if (delayMs === undefined) throw failure;
    options.onReconnect?.({ attempt: failures, delayMs, lastEventId: state.lastEventId, error: failure });
    await sleep(delayMs, signal);
  }
}

function toEvent(frame: SseFrame): BerthEvent | undefined {
  if (!isKnownEvent(frame.event)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(frame.data);
  } catch (error) {
    throw new BerthApiError({ status: 200, code: 'invalid_stream', title: 'An event-stream frame is not JSON', detail: `event ${frame.event} id ${frame.id}`, cause: error });
  }
  if (typeof data !== 'object' || data === null) {
    throw new BerthApiError({ status: 200, code: 'invalid_stream', title: 'An event-stream frame is not a JSON object', detail: `event ${frame.event} id ${frame.id}` });
  }
  return { event: frame.event, id: frame.id, data } as BerthEvent;
}

function cutError(plan: StreamPlan, why: string): BerthApiError {
  return new BerthApiError({ status: 0, code: 'stream_cut', title: 'The event stream was cut', detail: `${plan.what}: ${why}` });
}
