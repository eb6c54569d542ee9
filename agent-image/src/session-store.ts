// The SDK SessionStore adapter of one sandbox. The SDK calls append() with transcript batches;
// each batch is kept in memory (load() must serve it when the next turn resumes) and handed to
// the current turn's sink, which writes it as an `event: transcript` frame for the gateway to
// store. load() serves the transcript the bootstrap handed over, so a fresh sandbox resumes a
// conversation begun on another one. Neighbours: session.ts (attaches a sink per turn).
// It does not persist anything itself: durability is the gateway store's TranscriptLog. Entries without a
// uuid get idempotency keys (`keys` on the batch) that are stable across re-sends of the batch
// and unique across sandboxes (a random per-store nonce), so the store can dedupe them too.

import { randomUUID } from 'node:crypto';
import type { SessionKey, SessionStore, SessionStoreEntry } from '@anthropic-ai/claude-agent-sdk';
import type { StoredTranscriptEntry, TranscriptBatch } from '@berth/protocol';

/** Takes a batch onto the running turn; false when the turn cannot (ended, frame limit): it is kept for the next. */
export type BatchSink = (batch: TranscriptBatch) => boolean;

interface Transcript {
  entries: SessionStoreEntry[];
  uuids: Set<string>;
}

export class BerthSessionStore implements SessionStore {
  private readonly transcripts = new Map<string, Transcript>();
  private sink: BatchSink | null = null;
  /** Batches appended while no turn streams (e.g. a flush after an abort); sent with the next turn. */
  private pending: TranscriptBatch[] = [];
  /** Makes keys unique across sandboxes: a resumed session's batches restart their count. */
  private readonly nonce = randomUUID().slice(0, 8);
  private batchSeq = 0;

  constructor(handedOver: StoredTranscriptEntry[] = []) {
    for (const { sdkSessionId, subpath, entry } of handedOver) this.keep(sdkSessionId, subpath, [entry]);
  }

  /** Routes batches to a turn's stream; pending batches go first so order is kept. */
  attach(sink: BatchSink): void {
    this.sink = sink;
    const queued = this.pending;
    this.pending = [];
    for (const [i, batch] of queued.entries()) {
      if (!sink(batch)) {
        this.pending = [...queued.slice(i), ...this.pending];
        return;
      }
    }
  }

  detach(): void {
    this.sink = null;
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    // An empty batch creates nothing: load() of a never-written session stays null (SDK conformance).
    if (entries.length === 0) return;
    const subpath = key.subpath ?? '';
    this.keep(key.sessionId, subpath, entries);
    const batch: TranscriptBatch = { sdkSessionId: key.sessionId, subpath, entries };
    const seq = this.batchSeq++;
    if (entries.some((e) => typeof e.uuid !== 'string')) {
      batch.keys = entries.map((e, i) => (typeof e.uuid === 'string' ? e.uuid : `${key.sessionId}:${subpath}:${this.nonce}-${seq}:${i}`));
    }
    // Order is kept: while older batches wait, a new one waits behind them.
    if (this.pending.length > 0 || !this.sink?.(batch)) this.pending.push(batch);
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const transcript = this.transcripts.get(mapKey(key.sessionId, key.subpath ?? ''));
    return transcript ? [...transcript.entries] : null;
  }

  async listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]> {
    const prefix = mapKey(key.sessionId, '');
    return [...this.transcripts.keys()].filter((k) => k.startsWith(prefix) && k !== prefix).map((k) => k.slice(prefix.length));
  }

  /** Entries held for one transcript (tests and diagnostics). */
  size(sdkSessionId: string, subpath = ''): number {
    return this.transcripts.get(mapKey(sdkSessionId, subpath))?.entries.length ?? 0;
  }

  private keep(sdkSessionId: string, subpath: string, entries: SessionStoreEntry[]): void {
    const k = mapKey(sdkSessionId, subpath);
    let transcript = this.transcripts.get(k);
    if (!transcript) this.transcripts.set(k, (transcript = { entries: [], uuids: new Set() }));
    for (const entry of entries) {
      // uuid is the idempotency key: a replayed batch must not duplicate history on resume.
      if (typeof entry.uuid === 'string') {
        if (transcript.uuids.has(entry.uuid)) continue;
        transcript.uuids.add(entry.uuid);
      }
      transcript.entries.push(entry);
    }
  }
}

// The projectKey (the CLI's sanitized cwd) is ignored: one sandbox serves one session, and a
// handed-over transcript was written under another sandbox's cwd.
function mapKey(sdkSessionId: string, subpath: string): string {
  return `${sdkSessionId}\u0000${subpath}`;
}
