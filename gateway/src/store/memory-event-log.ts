// MemoryEventLog: the EventLog port in process memory (the embedded default). Watchers are woken
// synchronously-after-append on a microtask, as a Redis notification would arrive later.

import { compareFrameIds, DEFAULT_EVENT_LOG_LIMITS, parseFrameId, type EventCursor, type EventLog, type EventLogLimits, type EventRead, type FrameId, type LoggedFrame } from './event-log.js';

interface Log {
  frames: Array<LoggedFrame & { key: FrameId }>;
  /** The highest id trimmed away: a cursor below it has lost frames. */
  maxDeleted: FrameId | null;
  touchedAt: number;
}

export class MemoryEventLog implements EventLog {
  private readonly logs = new Map<string, Log>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly limits: EventLogLimits;

  constructor(limits: Partial<EventLogLimits> = {}, private readonly now: () => number = Date.now) {
    this.limits = { ...DEFAULT_EVENT_LOG_LIMITS, ...limits };
  }

  async append(sessionId: string, frames: LoggedFrame[]): Promise<void> {
    let log = this.live(sessionId);
    if (!log) {
      log = { frames: [], maxDeleted: null, touchedAt: this.now() };
      this.logs.set(sessionId, log);
    }
    let appended = false;
    for (const frame of frames) {
      const key = parseFrameId(frame.id);
      if (!key) throw new TypeError(`frame id ${JSON.stringify(frame.id)} is not <turn>:<seq>`);
      const last = log.frames.at(-1)?.key ?? log.maxDeleted;
      if (last && compareFrameIds(key, last) <= 0) continue;
      log.frames.push({ id: frame.id, event: frame.event, data: frame.data, key });
      appended = true;
    }
    const excess = log.frames.length - this.limits.maxFrames;
    if (excess > 0) log.maxDeleted = log.frames.splice(0, excess).at(-1)!.key;
    log.touchedAt = this.now();
    if (appended) this.wake(sessionId);
  }

  async read(sessionId: string, cursor: EventCursor | null, limit: number): Promise<EventRead> {
    const log = this.live(sessionId);
    const frames = log?.frames ?? [];
    const last = frames.at(-1) ?? null;
    let start = 0;
    if (cursor) {
      const key = parseFrameId('after' in cursor ? cursor.after : cursor.at);
      if (!key) return { kind: 'gap' };
      const lastKey = last?.key ?? log?.maxDeleted ?? null;
      if (!lastKey || compareFrameIds(key, lastKey) > 0) return { kind: 'gap' };
      // Frames after the cursor were trimmed: the reader would miss them silently.
      const floor = log?.maxDeleted;
      if (floor && compareFrameIds(key, floor) < ('after' in cursor ? 0 : 1)) return { kind: 'gap' };
      start = frames.findIndex((f) => compareFrameIds(f.key, key) >= ('after' in cursor ? 1 : 0));
      if (start === -1) start = frames.length;
    }
    const page = frames.slice(start, start + Math.max(1, limit)).map(({ id, event, data }) => ({ id, event, data }));
    return { kind: 'frames', frames: page, last: last?.id ?? null };
  }

  async last(sessionId: string): Promise<string | null> {
    return this.live(sessionId)?.frames.at(-1)?.id ?? null;
  }

  watch(sessionId: string, onAppend: () => void): () => void {
    let set = this.watchers.get(sessionId);
    if (!set) this.watchers.set(sessionId, (set = new Set()));
    set.add(onAppend);
    return () => {
      set.delete(onAppend);
      if (set.size === 0 && this.watchers.get(sessionId) === set) this.watchers.delete(sessionId);
    };
  }

  async remove(sessionId: string): Promise<void> {
    this.logs.delete(sessionId);
    this.wake(sessionId);
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }

  /** The session's log unless it expired (ttlS after its last append). */
  private live(sessionId: string): Log | undefined {
    const log = this.logs.get(sessionId);
    if (log && this.now() - log.touchedAt > this.limits.ttlS * 1000) {
      this.logs.delete(sessionId);
      return undefined;
    }
    return log;
  }

  private wake(sessionId: string): void {
    const set = this.watchers.get(sessionId);
    if (!set) return;
    queueMicrotask(() => {
      for (const watcher of [...set]) watcher();
    });
  }
}
