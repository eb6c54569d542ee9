// The SDK SessionStore adapter of one sandbox. The SDK calls append() with transcript batches;
// each batch is kept in memory (load() must serve it when the next turn resumes) and handed to
// the current turn's sink, which writes it as an `event: transcript` frame for the gateway to
// store. load() serves the transcript the bootstrap handed over, so a fresh sandbox resumes a
// conversation begun on another one. Neighbours: session.ts (attaches a sink per turn).
// It does not persist anything itself: durability is the gateway store's TranscriptLog.

import type { SessionKey, SessionStore, SessionStoreEntry } from '@anthropic-ai/claude-agent-sdk';
import type { StoredTranscriptEntry, TranscriptBatch } from '@berth/protocol';

export type BatchSink = (batch: TranscriptBatch) => void;

interface Transcript {
  entries: SessionStoreEntry[];
  uuids: Set<string>;
}

export class BerthSessionStore implements SessionStore {
  private readonly transcripts = new Map<string, Transcript>();
  private sink: BatchSink | null = null;
  /** Batches appended while no turn streams (e.g. a flush after an abort); sent with the next turn. */
  private pending: TranscriptBatch[] = [];

  constructor(handedOver: StoredTranscriptEntry[] = []) {
    for (const { sdkSessionId, subpath, entry } of handedOver) this.keep(sdkSessionId, subpath, [entry]);
  }

  /** Routes batches to a turn's stream; pending batches go first so order is kept. */
  attach(sink: BatchSink): void {
    this.sink = sink;
    const queued = this.pending;
    this.pending = [];
    for (const batch of queued) sink(batch);
  }

  detach(): void {
    this.sink = null;
  }

  async append(key: SessionKey, entries: SessionStoreEntry[]): Promise<void> {
    const subpath = key.subpath ?? '';
    this.keep(key.sessionId, subpath, entries);
    const batch: TranscriptBatch = { sdkSessionId: key.sessionId, subpath, entries };
    if (this.sink) this.sink(batch);
    else this.pending.push(batch);
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
