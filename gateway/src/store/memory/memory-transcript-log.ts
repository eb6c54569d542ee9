// TranscriptLog in process memory: per session, the entries in order and the uuids seen.

import type { StoredTranscriptEntry } from '@berth/protocol';
import type { TranscriptLog } from '../transcript-log.js';

export class MemoryTranscriptLog implements TranscriptLog {
  private readonly transcripts = new Map<string, { entries: StoredTranscriptEntry[]; uuids: Set<string> }>();

  async appendTranscript(sessionId: string, entries: StoredTranscriptEntry[]): Promise<number> {
    let transcript = this.transcripts.get(sessionId);
    if (!transcript) {
      transcript = { entries: [], uuids: new Set() };
      this.transcripts.set(sessionId, transcript);
    }
    let appended = 0;
    for (const stored of entries) {
      const uuid = stored.entry.uuid;
      if (uuid !== undefined) {
        if (transcript.uuids.has(uuid)) continue;
        transcript.uuids.add(uuid);
      }
      transcript.entries.push(structuredClone(stored));
      appended++;
    }
    return appended;
  }

  async loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]> {
    return structuredClone(this.transcripts.get(sessionId)?.entries ?? []);
  }

  /** Called by deleteSession (memory-store.ts wires it). */
  forget(sessionId: string): void {
    this.transcripts.delete(sessionId);
  }
}
