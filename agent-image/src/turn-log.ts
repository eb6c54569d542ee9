// The frames of one turn, numbered and kept so the turn can run detached from any HTTP request:
// the request that started it and any number of re-attached readers (GET …/turns/{n}/stream)
// only observe it. Frames are numbered 1, 2, 3, … per turn (the SSE `id:`); exactly one
// terminal frame (`done`/`error`) ends the log. Neighbours: session.ts appends, turn-stream.ts
// replays and tails onto HTTP responses.
// Bounds, all per turn: maxFrames (the terminal frame always has a slot: the last one),
// maxFrameBytes per frame, maxBufferedBytes in total. Past the first two, append refuses
// (`frame_limit`) and the session ends the turn; past the third, the oldest frames are dropped
// and a reader asking for them gets `replay_gap`.

import type { AgentEvent } from '@berth/protocol';

export interface LoggedFrame {
  seq: number;
  event: AgentEvent;
  /** The frame's `data`, already JSON. */
  data: string;
}

export interface TurnLogLimits {
  maxFrames: number;
  maxFrameBytes: number;
  /**
   * Bytes of frame data kept for replay. A reader behind the dropped part gets replay_gap; the
   * gateway stores frames as they arrive, so only a reader that was away for this much output
   * loses anything. The agent keeps two turns, so memory is bounded by twice this.
   */
  maxBufferedBytes: number;
}

export type AppendOutcome = 'ok' | 'frame_limit' | 'ended';
export type ReadResult = { kind: 'frames'; frames: LoggedFrame[] } | { kind: 'gap'; firstKept: number };
type Listener = (frame: LoggedFrame) => void;

export class TurnLog {
  private readonly frames: LoggedFrame[] = [];
  private nextSeq = 1;
  private bufferedBytes = 0;
  /** Seq of the first frame still kept (all frames before it were dropped for maxBufferedBytes). */
  private firstKept = 1;
  private ended = false;
  private readonly listeners = new Set<Listener>();

  constructor(
    readonly turn: number,
    private readonly limits: TurnLogLimits,
  ) {}

  get finished(): boolean {
    return this.ended;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** A non-terminal frame. Refused once the log ended, or when it would break a per-turn bound. */
  append(event: Exclude<AgentEvent, 'done' | 'error'>, payload: unknown): AppendOutcome {
    if (this.ended) return 'ended';
    const data = JSON.stringify(payload);
    // The last slot is the terminal frame's, so a turn at the limit can still end properly.
    if (this.nextSeq >= this.limits.maxFrames || Buffer.byteLength(data) > this.limits.maxFrameBytes) return 'frame_limit';
    this.push({ seq: this.nextSeq++, event, data });
    return 'ok';
  }

  /** The one terminal frame; later calls are ignored. */
  end(event: 'done' | 'error', payload: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.push({ seq: this.nextSeq++, event, data: JSON.stringify(payload) });
    this.listeners.clear();
  }

  /** Frames after `after` that are kept; `gap` when some of them were dropped already. */
  read(after: number): ReadResult {
    if (after + 1 < this.firstKept) return { kind: 'gap', firstKept: this.firstKept };
    const start = Math.max(0, after + 1 - this.firstKept);
    return { kind: 'frames', frames: this.frames.slice(start) };
  }

  /**
   * Live frames from now on, in order, synchronously as appended (a reader that read() and
   * subscribes in the same tick misses nothing). The terminal frame is the last call.
   */
  subscribe(listener: Listener): () => void {
    if (this.ended) return () => undefined;
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private push(frame: LoggedFrame): void {
    this.frames.push(frame);
    this.bufferedBytes += frame.data.length;
    while (this.bufferedBytes > this.limits.maxBufferedBytes && this.frames.length > 1) {
      const dropped = this.frames.shift()!;
      this.bufferedBytes -= dropped.data.length;
      this.firstKept = dropped.seq + 1;
    }
    for (const listener of [...this.listeners]) listener(frame);
  }
}
