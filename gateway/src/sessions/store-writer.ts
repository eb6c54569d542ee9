// Writes one stream's side effects to the store in order, off the relay's hot path: replay
// frames and transcript batches are queued and written one after another, so a reconnecting
// caller sees frames in stream order and a slow store never delays a frame to the caller.
// Transcript appends are retried (they are idempotent on entry uuid or the batch's key, so a
// retry after an ambiguous failure cannot duplicate); replay frames are best effort (losing one
// costs only a resume, never the conversation).

import type { SseFrame, StoredTranscriptEntry } from '@berth/protocol';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

/** The store writes one relayed turn makes. */
export type RelayStore = Pick<Store, 'sessions' | 'transcripts' | 'replay'>;

export interface StoreWriterOptions {
  /** How long a transcript batch is retried while the store is down, in ms. Default 30 000. */
  transcriptRetryMs?: number;
}

export class StoreWriter {
  private chain: Promise<void> = Promise.resolve();
  private failedTranscript = false;
  private fullTranscript = false;

  constructor(
    private readonly store: RelayStore,
    private readonly sessionId: string,
    private readonly log: Logger,
    private readonly options: StoreWriterOptions = {},
  ) {}

  replay(frame: SseFrame & { id: string }): void {
    this.enqueue(() => this.store.replay.appendReplay(this.sessionId, frame).catch((error: unknown) => {
      this.log.debug({ err: error, session: this.sessionId }, 'replay frame not stored');
    }));
  }

  /** `keys`: the batch's idempotency keys for uuid-less entries (TranscriptBatch.keys), same index. */
  transcript(entries: StoredTranscriptEntry[], keys?: readonly string[]): void {
    this.enqueue(() => this.appendWithRetry(entries, keys));
  }

  /** Queues any other store write that must keep stream order. */
  run(task: () => Promise<void>): void {
    this.enqueue(() => task().catch((error: unknown) => this.log.warn({ err: error, session: this.sessionId }, 'store write failed')));
  }

  /**
   * Resolves when everything queued so far is written (or given up). `transcriptFull`: a batch was
   * refused because the session's stored transcript reached its byte cap.
   */
  async flush(): Promise<{ transcriptLost: boolean; transcriptFull: boolean }> {
    await this.chain;
    return { transcriptLost: this.failedTranscript, transcriptFull: this.fullTranscript };
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task);
  }

  private async appendWithRetry(entries: StoredTranscriptEntry[], keys: readonly string[] | undefined): Promise<void> {
    const deadline = Date.now() + (this.options.transcriptRetryMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.store.transcripts.appendTranscript(this.sessionId, entries, keys);
        // The cap is an answer, not a failure: retrying cannot help, and later batches are refused too.
        if (outcome.kind === 'over_limit' && !this.fullTranscript) {
          this.fullTranscript = true;
          this.log.warn({ session: this.sessionId, storedBytes: outcome.storedBytes, maxBytes: outcome.maxBytes }, "the session's stored transcript is full (BERTH_MAX_TRANSCRIPT_BYTES); new entries are not stored");
        }
        return;
      } catch (error) {
        if (Date.now() >= deadline) {
          this.failedTranscript = true;
          this.log.error({ err: error, session: this.sessionId, entries: entries.length }, 'transcript batch not stored');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }
}
