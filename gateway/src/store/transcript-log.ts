// TranscriptLog: each session's Agent SDK transcript, as the agent server's SessionStore
// mirrored it to the gateway, so a conversation resumes on any sandbox. Append-only; the whole
// log goes with deleteSession (SessionRecords).

import type { StoredTranscriptEntry } from '@berth/protocol';

export interface TranscriptLog {
  /**
   * Appends in order, skipping entries whose uuid is already stored (idempotent: a retry after an
   * ambiguous failure cannot duplicate); entries without uuid are always appended. Atomic per
   * call: concurrent appends of the same uuids store each once. Returns how many were appended.
   */
  appendTranscript(sessionId: string, entries: StoredTranscriptEntry[]): Promise<number>;
  loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]>;
}
