// A TranscriptLog that reports each refused append (the session's byte cap) to a callback, so the
// composition root can count refusals in a metric without the store knowing about Prometheus.
// Outcomes pass through unchanged; errors are not counted (they are not refusals).

import type { TranscriptAppend, TranscriptLog } from './transcript-log.js';

export function countRefusals(inner: TranscriptLog, onRefused: (outcome: Extract<TranscriptAppend, { kind: 'over_limit' }>) => void): TranscriptLog {
  return {
    async appendTranscript(sessionId, entries, keys) {
      const outcome = await inner.appendTranscript(sessionId, entries, keys);
      if (outcome.kind === 'over_limit') onRefused(outcome);
      return outcome;
    },
    loadTranscript: (sessionId) => inner.loadTranscript(sessionId),
  };
}
