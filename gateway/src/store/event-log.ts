// The EventLog port: each session's event log, the frames of its turns as callers see them, in
// order, bounded, readable and tailable from any replica. The relaying replica appends (sessions/
// turn-relay.ts); the POST's own stream, resumes and GET /sessions/{id}/events read, so nothing
// a caller reads depends on the connection that started the turn.
// Implementations: MemoryEventLog (one process) and RedisEventLog (Redis Streams, one pub/sub
// subscription per replica). Both pass tests/contracts/store/event-log-contract.ts.
//
// Frame ids are `<turn>:<seq>` (turn ≥ 1, seq ≥ 0; seq 0 is the gateway's `turn` frame, seq ≥ 1
// are the agent's numbering). Ids only grow: append skips a frame whose id is not above the
// log's last one, so a relay that re-attaches and re-writes frames it already stored is harmless.
// Concurrency: one writer per turn (the lease holder); any number of readers.

/** One stored frame, as callers receive it. */
export interface LoggedFrame {
  id: string;
  event: string;
  data: string;
}

export type EventRead =
  /** Frames in id order from the cursor, at most `limit` (possibly none). `last`: the log's last id. */
  | { kind: 'frames'; frames: LoggedFrame[]; last: string | null }
  /** The cursor is malformed, beyond the log's end, or older than what the log retains. */
  | { kind: 'gap' };

/** Where a read starts: strictly after a frame id, or at one (inclusive). */
export type EventCursor = { after: string } | { at: string };

export interface EventLog {
  /** Appends frames in order; frames whose id is not above the log's last id are skipped. Wakes watchers on every replica. */
  append(sessionId: string, frames: LoggedFrame[]): Promise<void>;
  /** Frames from `cursor` (null: from the oldest retained), at most `limit` (1..1000). */
  read(sessionId: string, cursor: EventCursor | null, limit: number): Promise<EventRead>;
  /** The last frame id, or null for an empty (or expired) log. */
  last(sessionId: string): Promise<string | null>;
  /**
   * Calls `onAppend` (no arguments, possibly spuriously, e.g. after a reconnect) whenever frames
   * may have been appended to the session's log by any replica. Costs no store round trip while
   * nothing is appended. Returns the unsubscribe function.
   */
  watch(sessionId: string, onAppend: () => void): () => void;
  /** Drops the session's log (the session was deleted). */
  remove(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

export interface EventLogLimits {
  /**
   * Frames kept per session. Default 12 000: two turns at the agent's default maxFramesPerTurn
   * (5 000) plus slack, so the current and the last turn are always whole. Smaller makes a long
   * turn's start unreadable (replay_gap); larger costs store memory per active session.
   */
  maxFrames: number;
  /** Lifetime of a log after its last append, in seconds. Default 86 400 (a day): resumes and history after a night. */
  ttlS: number;
}

export const DEFAULT_EVENT_LOG_LIMITS: EventLogLimits = { maxFrames: 12_000, ttlS: 86_400 };

/** Most frames one read returns. */
export const MAX_EVENT_READ = 1000;

export interface FrameId {
  turn: number;
  seq: number;
}

export function frameId(turn: number, seq: number): string {
  return `${turn}:${seq}`;
}

/** Parses `<turn>:<seq>`; null for anything else (a caller-supplied id is untrusted). */
export function parseFrameId(id: string): FrameId | null {
  const match = /^(\d{1,9}):(\d{1,9})$/.exec(id);
  if (!match) return null;
  const turn = Number(match[1]);
  if (turn < 1) return null;
  return { turn, seq: Number(match[2]) };
}

export function compareFrameIds(a: FrameId, b: FrameId): number {
  return a.turn - b.turn || a.seq - b.seq;
}

export function isTerminalEvent(event: string): boolean {
  return event === 'done' || event === 'error';
}
