// ReplayBuffer: the newest SSE frames of a session's current turn, so a caller that lost its
// connection resumes with Last-Event-ID on any replica. Bounded in frames and in lifetime
// (StoreLimits); losing it costs a resume, never the conversation.

import type { SseFrame } from '@berth/protocol';

export type ReplayResult =
  /** Frames after the given id, in order (possibly none). */
  | { kind: 'frames'; frames: SseFrame[] }
  /** The id is not in the buffer (unknown, expired, or evicted): the caller must be told. */
  | { kind: 'unknown' };

export interface ReplayBuffer {
  /** Appends one frame (with id); keeps the newest `replayMaxFrames`, re-arms the buffer's TTL. */
  appendReplay(sessionId: string, frame: SseFrame & { id: string }): Promise<void>;
  /** Frames strictly after `lastEventId`. */
  replaySince(sessionId: string, lastEventId: string): Promise<ReplayResult>;
  /** Drops the buffer (a new turn starts a new buffer). */
  resetReplay(sessionId: string): Promise<void>;
}
