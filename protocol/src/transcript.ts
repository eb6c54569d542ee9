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
}

/** A stored entry together with the transcript it belongs to. */
export interface StoredTranscriptEntry {
  sdkSessionId: string;
  subpath: string;
  entry: TranscriptEntry;
}
