// Serves a caller's stream from a session's event log: the frames from a cursor, then the live
// tail, until the turn's terminal frame (or, with `follow`, across turns until the caller leaves).
// The POST's own stream, a resume with Last-Event-ID, GET /sessions/{id}/stream and
// GET /sessions/{id}/events all read this way, so what a caller sees never depends on the
// connection or the replica that started the turn. Waiting costs no store round trip: the log's
// watch() wakes the tail when frames may have arrived (one subscription per replica on Redis).
// A cursor the log does not retain gets one `replay_gap` error frame and the stream ends.

import type { EventCursor, EventLog, LoggedFrame } from '../store/event-log.js';
import { isTerminalEvent } from '../store/event-log.js';
import type { ActiveTurn } from '../sessions/turn-runner.js';
import type { FrameSink } from '../sessions/turn-relay.js';

/** Frames per log read while catching up. Default 200: one read per ~200 frames of backlog. */
const PAGE = 200;
/** Wait between reads while the store is away, ms. 500: a restart is noticed within half a second. */
const STORE_RETRY_MS = 500;
/**
 * How long a tail rides out an unreachable store before it ends with `store_unavailable`, ms.
 * 60 000: longer than a Redis restart or a Sentinel failover; a caller still gets one terminal
 * frame, and resumes with Last-Event-ID once the store is back.
 */
const STORE_OUTAGE_MS = 60_000;

export interface TailOptions {
  events: EventLog;
  sessionId: string;
  /** Where to start; null: the oldest frame the log retains. */
  cursor: EventCursor | null;
  /** The id of a frame the caller was sent already (the POST's `turn` frame), for the ids of error frames. */
  sent?: string;
  sink: FrameSink;
  /** Keep tailing after a terminal frame (across turns). */
  follow: boolean;
  /** Resolves when the caller went away. */
  closed: Promise<void>;
  /** The drain cuts tails too (they end with one `draining` error frame; the caller resumes elsewhere). */
  active: Set<ActiveTurn>;
}

export async function tailEvents(options: TailOptions): Promise<void> {
  const { events, sessionId, sink, follow } = options;
  let cursor = options.cursor;
  let dirty = true;
  let wake: (() => void) | undefined;
  let lastSent: string | undefined = options.sent;
  let gone = false;
  let failingSince: number | null = null;
  const stop = (): void => {
    gone = true;
    wake?.();
  };
  void options.closed.then(stop);
  const active: ActiveTurn = {
    cut: (reason) => {
      sink.finish({ ...(lastSent ? { id: lastSent } : {}), event: 'error', data: JSON.stringify({ message: reason, code: 'draining' }) });
      stop();
    },
  };
  options.active.add(active);
  // Watch before the first read: an append between the read and the wait still wakes us.
  const unwatch = events.watch(sessionId, () => {
    dirty = true;
    wake?.();
  });
  try {
    while (!gone && !sink.ended) {
      if (!dirty) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      dirty = false;
      for (;;) {
        let read: Awaited<ReturnType<EventLog['read']>>;
        try {
          read = await events.read(sessionId, cursor, PAGE);
          failingSince = null;
        } catch (error) {
          // A store that is briefly away (a restart, a failover) does not end the caller's
          // stream: the relay retries its appends meanwhile, so the frames will be there. Retry
          // on the next wake or after STORE_RETRY_MS, for at most STORE_OUTAGE_MS in a row.
          failingSince ??= Date.now();
          if (Date.now() - failingSince > STORE_OUTAGE_MS) throw error;
          dirty = true;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, STORE_RETRY_MS);
            wake = () => (clearTimeout(timer), resolve());
          });
          wake = undefined;
          break;
        }
        if (read.kind === 'gap') {
          sink.finish({
            ...(lastSent ? { id: lastSent } : {}),
            event: 'error',
            data: JSON.stringify({ message: 'the requested event id is not in the session event log (unknown, or older than its retention); fetch the session and start a new turn', code: 'replay_gap' }),
          });
          return;
        }
        for (const frame of read.frames) {
          if (send(sink, frame, follow)) return;
          lastSent = frame.id;
          cursor = { after: frame.id };
        }
        if (read.frames.length < PAGE || gone || sink.ended) break;
      }
    }
  } catch (error) {
    sink.finish({ ...(lastSent ? { id: lastSent } : {}), event: 'error', data: JSON.stringify({ message: 'the session event log is unreachable; reconnect with Last-Event-ID', code: 'store_unavailable' }) });
    void error;
  } finally {
    unwatch();
    options.active.delete(active);
  }
}

/** Sends one frame; true when it ended the stream. */
function send(sink: FrameSink, frame: LoggedFrame, follow: boolean): boolean {
  if (isTerminalEvent(frame.event) && !follow) {
    sink.finish(frame as LoggedFrame & { event: 'done' | 'error' });
    return true;
  }
  sink.send(frame);
  return false;
}
