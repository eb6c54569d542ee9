// TranscriptLog in process memory: per session, the entries in order, the idempotency keys seen
// and the bytes stored (for the cap).

import type { StoredTranscriptEntry } from '@berth/protocol';
import { transcriptDedupKey, type TranscriptAppend, type TranscriptLog } from '../transcript-log.js';

interface Transcript {
  entries: StoredTranscriptEntry[];
  keys: Set<string>;
  bytes: number;
}

export class MemoryTranscriptLog implements TranscriptLog {
  private readonly transcripts = new Map<string, Transcript>();

  constructor(private readonly maxBytes: number) {}

  async appendTranscript(sessionId: string, entries: StoredTranscriptEntry[], keys?: ReadonlyArray<string | undefined>): Promise<TranscriptAppend> {
    const transcript = this.transcripts.get(sessionId) ?? { entries: [], keys: new Set<string>(), bytes: 0 };
    // Two passes, so a batch that would pass the cap changes nothing.
    const fresh: Array<{ stored: StoredTranscriptEntry; key: string | undefined; bytes: number }> = [];
    const inBatch = new Set<string>();
    for (const [i, stored] of entries.entries()) {
      const key = transcriptDedupKey(stored, keys?.[i]);
      if (key !== undefined && (transcript.keys.has(key) || inBatch.has(key))) continue;
      if (key !== undefined) inBatch.add(key);
      fresh.push({ stored, key, bytes: Buffer.byteLength(JSON.stringify(stored), 'utf8') });
    }
    const batchBytes = fresh.reduce((sum, f) => sum + f.bytes, 0);
    if (fresh.length > 0 && transcript.bytes + batchBytes > this.maxBytes) {
      return { kind: 'over_limit', storedBytes: transcript.bytes, batchBytes, maxBytes: this.maxBytes };
    }
    for (const f of fresh) {
      if (f.key !== undefined) transcript.keys.add(f.key);
      transcript.entries.push(structuredClone(f.stored));
    }
    transcript.bytes += batchBytes;
    if (fresh.length > 0) this.transcripts.set(sessionId, transcript);
    return { kind: 'appended', appended: fresh.length, storedBytes: transcript.bytes };
  }

  async loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]> {
    return structuredClone(this.transcripts.get(sessionId)?.entries ?? []);
  }

  /** Called by deleteSession (memory-store.ts wires it). */
  forget(sessionId: string): void {
    this.transcripts.delete(sessionId);
  }
}
