// One line of an Agent SDK session transcript, as the SDK's SessionStore sees it. The shape is
// the SDK's own `SessionStoreEntry` restated here so that protocol/ keeps no dependencies:
// a string `type`, usually a `uuid` (the idempotency key) and a `timestamp`, the rest opaque.

export interface TranscriptEntry {
  type: string;
  uuid?: string;
  timestamp?: string;
  [key: string]: unknown;
}

/**
 * A batch the agent server's SessionStore.append received, riding the SSE stream to the
 * gateway as an `event: transcript` frame. `subpath` is '' for the main transcript and the
 * SDK's subpath (subagent transcripts) otherwise.
 */
export interface TranscriptBatch {
  sdkSessionId: string;
  subpath: string;
  entries: TranscriptEntry[];
  /**
   * Idempotency keys, one per entry (same index), present when any entry has no `uuid`: the
   * store dedupes on `uuid` when there is one and on `keys[i]` otherwise. A key is stable across
   * re-sends of the same batch (`<sdkSessionId>:<subpath>:<batchSeq>:<index>`), so a batch
   * delivered twice (re-attach, retry after a store stall) stores each entry once.
   */
  keys?: string[];
}

/** The idempotency key of `batch.entries[index]`: its uuid, else the batch's key for it. */
export function transcriptEntryKey(batch: TranscriptBatch, index: number): string | undefined {
  const uuid = batch.entries[index]?.uuid;
  return typeof uuid === 'string' && uuid.length > 0 ? uuid : batch.keys?.[index];
}

/** A stored entry together with the transcript it belongs to. */
export interface StoredTranscriptEntry {
  sdkSessionId: string;
  subpath: string;
  entry: TranscriptEntry;
}
