// The SDK SessionStore adapter of one sandbox. The SDK calls append() with transcript batches;
// each batch is kept in memory (load() must serve it when the next turn resumes) and handed to
// the current turn's sink, which writes it as an `event: transcript` frame for the gateway to
// store. load() serves the transcript the bootstrap handed over, so a fresh sandbox resumes a
// conversation begun on another one. Neighbours: session.ts (attaches a sink per turn).
// Keys are namespaced by the SDK's projectKey, which the agent sets to the tenant
// (project-key.ts), as the SDK asks of multi-tenant deployments. The gateway stores a berth
// session's transcript without it (a session has exactly one owning tenant), so a handed-over
// transcript is kept under this store's own projectKey: the key the SDK's load() asks for.
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

  /**
   * @param handedOver the stored transcript of a resumed session, kept under `projectKey`.
   * @param projectKey the key the SDK uses for this sandbox's session (the tenant's, see projectKeyFor).
   */
  constructor(handedOver: StoredTranscriptEntry[] = [], readonly projectKey = 'berth') {
    for (const { sdkSessionId, subpath, entry } of handedOver) this.keep({ projectKey, sessionId: sdkSessionId, subpath }, [entry]);
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
    this.keep(key, entries);
    const batch: TranscriptBatch = { sdkSessionId: key.sessionId, subpath, entries };
    const seq = this.batchSeq++;
    if (entries.some((e) => typeof e.uuid !== 'string')) {
      batch.keys = entries.map((e, i) => (typeof e.uuid === 'string' ? e.uuid : `${key.sessionId}:${subpath}:${this.nonce}-${seq}:${i}`));
    }
    // Order is kept: while older batches wait, a new one waits behind them.
    if (this.pending.length > 0 || !this.sink?.(batch)) this.pending.push(batch);
  }

  async load(key: SessionKey): Promise<SessionStoreEntry[] | null> {
    const transcript = this.transcripts.get(mapKey(key));
    return transcript ? [...transcript.entries] : null;
  }

  async listSubkeys(key: { projectKey: string; sessionId: string }): Promise<string[]> {
    const prefix = mapKey(key);
    return [...this.transcripts.keys()].filter((k) => k.startsWith(prefix) && k !== prefix).map((k) => k.slice(prefix.length));
  }

  /** Entries held for one transcript under this store's projectKey (tests and diagnostics). */
  size(sdkSessionId: string, subpath = ''): number {
    return this.transcripts.get(mapKey({ projectKey: this.projectKey, sessionId: sdkSessionId, subpath }))?.entries.length ?? 0;
  }

  private keep(key: SessionKey, entries: SessionStoreEntry[]): void {
    const k = mapKey(key);
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

// NUL cannot occur in a projectKey (a directory name) or an SDK session id (a UUID), so the
// parts cannot run into each other; an empty subpath is the main transcript, and a main key is
// the prefix of its session's subkeys.
function mapKey(key: { projectKey: string; sessionId: string; subpath?: string | undefined }): string {
  return `${key.projectKey}\u0000${key.sessionId}\u0000${key.subpath ?? ''}`;
}
