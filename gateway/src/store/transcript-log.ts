// TranscriptLog: each session's Agent SDK transcript, as the agent server's SessionStore
// mirrored it to the gateway, so a conversation resumes on any sandbox. Append-only and bounded
// in bytes per session (StoreLimits.maxTranscriptBytes); the whole log goes with deleteSession
// (SessionRecords).

import type { StoredTranscriptEntry } from '@berth/protocol';

export type TranscriptAppend =
  /** `appended` new entries stored (duplicates skipped); `storedBytes` is the log's size after. */
  | { kind: 'appended'; appended: number; storedBytes: number }
  /**
   * Nothing stored: the new entries would take the session's log past `maxBytes`. Expected, not
   * an error of the store: the caller tells its caller (the conversation cannot grow further).
   */
  | { kind: 'over_limit'; storedBytes: number; batchBytes: number; maxBytes: number };

export interface TranscriptLog {
  /**
   * Appends in order, skipping entries already stored. An entry's idempotency key is its `uuid`,
   * else `keys[i]` (the agent's stable key for a uuid-less entry; TranscriptBatch.keys), else
   * none (always appended). Atomic per call: concurrent appends of the same entries store each
   * once, and a batch is stored whole or, when its new entries would pass the byte cap, not at
   * all (`over_limit`). Size is the entries' JSON in UTF-8 bytes.
   */
  appendTranscript(sessionId: string, entries: StoredTranscriptEntry[], keys?: ReadonlyArray<string | undefined>): Promise<TranscriptAppend>;
  loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]>;
}

/** The key an entry is deduplicated on, as the store keeps it: uuids bare, batch keys under `k:`. */
export function transcriptDedupKey(stored: StoredTranscriptEntry, key: string | undefined): string | undefined {
  const uuid = stored.entry.uuid;
  if (typeof uuid === 'string' && uuid.length > 0) return uuid;
  return typeof key === 'string' && key.length > 0 ? `k:${key}` : undefined;
}
