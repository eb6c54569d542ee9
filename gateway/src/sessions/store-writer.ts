// Writes one relayed turn's side effects to the store in stream order, off the relay's hot path:
// event-log frames and transcript batches are queued and written one after another, so readers
// see frames in order and a transcript batch is stored before any frame that follows it (the
// terminal frame above all). Consecutive frames queued while a write is in flight go out as one
// append (one round trip however fast the agent talks). Both kinds are retried while the store
// is down (appends are idempotent: frame ids only grow, transcript entries are keyed), so a
// Redis restart mid-turn loses nothing a caller or a resumed conversation needs.

import type { StoredTranscriptEntry, TranscriptBatch } from '@berth/protocol';
import type { Logger } from '../log.js';
import type { EventLog, LoggedFrame } from '../store/event-log.js';
import type { Store } from '../store/store.js';

/** The store writes one relayed turn makes besides its event log. */
export type RelayStore = Pick<Store, 'sessions' | 'transcripts'>;

export interface EventWriterOptions {
  /** How long one write is retried while the store is down, in ms. Default 30 000. */
  retryMs?: number;
}

type Task = { kind: 'frames'; frames: LoggedFrame[] } | { kind: 'run'; run: () => Promise<void> };

export class EventWriter {
  private readonly queue: Task[] = [];
  private pumping: Promise<void> | undefined;
  private failedTranscript = false;
  private failedFrames = false;
  private fullTranscript = false;

  constructor(
    private readonly events: EventLog,
    private readonly store: RelayStore,
    private readonly sessionId: string,
    private readonly log: Logger,
    private readonly options: EventWriterOptions = {},
  ) {}

  frame(frame: LoggedFrame): void {
    const tail = this.queue.at(-1);
    if (tail?.kind === 'frames') tail.frames.push(frame);
    else this.queue.push({ kind: 'frames', frames: [frame] });
    this.pump();
  }

  transcript(batch: TranscriptBatch): void {
    const entries: StoredTranscriptEntry[] = batch.entries.map((entry) => ({ sdkSessionId: batch.sdkSessionId, subpath: batch.subpath ?? '', entry }));
    // The store dedupes on uuid, else on the batch's key for the entry, so a batch the agent
    // re-sends (re-attach, retry after a store stall) stores each entry once.
    const keys = Array.isArray(batch.keys) ? batch.keys : undefined;
    this.queue.push({
      kind: 'run',
      run: () => this.retry('transcript batch', async () => {
        const outcome = await this.store.transcripts.appendTranscript(this.sessionId, entries, keys);
        // The byte cap is an answer, not a failure: retrying cannot help.
        if (outcome.kind === 'over_limit' && !this.fullTranscript) {
          this.fullTranscript = true;
          this.log.warn({ session: this.sessionId, storedBytes: outcome.storedBytes, maxBytes: outcome.maxBytes }, "the session's stored transcript is full (BERTH_MAX_TRANSCRIPT_BYTES); new entries are not stored");
        }
      }).then((ok) => {
        if (!ok) this.failedTranscript = true;
      }),
    });
    this.pump();
  }

  /** Queues any other store write that must keep stream order (best effort). */
  run(task: () => Promise<void>): void {
    this.queue.push({ kind: 'run', run: () => task().catch((error: unknown) => this.log.warn({ err: error, session: this.sessionId }, 'store write failed')) });
    this.pump();
  }

  /**
   * Resolves when everything queued so far is written (or given up). `transcriptFull`: a batch was
   * refused because the session's stored transcript reached its byte cap (BERTH_MAX_TRANSCRIPT_BYTES).
   */
  async flush(): Promise<{ transcriptLost: boolean; framesLost: boolean; transcriptFull: boolean }> {
    while (this.pumping) await this.pumping;
    return { transcriptLost: this.failedTranscript, framesLost: this.failedFrames, transcriptFull: this.fullTranscript };
  }

  private pump(): void {
    this.pumping ??= (async () => {
      for (let task = this.queue.shift(); task; task = this.queue.shift()) {
        if (task.kind === 'run') await task.run();
        else {
          const frames = task.frames;
          if (!(await this.retry('event frames', () => this.events.append(this.sessionId, frames)))) this.failedFrames = true;
        }
      }
    })().finally(() => (this.pumping = undefined));
  }

  private async retry(what: string, write: () => Promise<unknown>): Promise<boolean> {
    const deadline = Date.now() + (this.options.retryMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        return true;
      } catch (error) {
        if (Date.now() >= deadline) {
          this.log.error({ err: error, session: this.sessionId }, `${what} not stored`);
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }
}
