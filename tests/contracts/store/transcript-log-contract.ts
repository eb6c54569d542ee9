// The TranscriptLog contract (gateway/src/store/transcript-log.ts): order, idempotency on entry
// uuid, and concurrent appends of the same entries.
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { contractKit, entry, type StoreContractOptions } from './store-contract-kit.js';

export function runTranscriptLogContract(options: StoreContractOptions): void {
  describe(`TranscriptLog contract: ${options.name}`, () => {
    const { newStore, it } = contractKit(options);

    it('idempotent on uuid, entries without uuid always appended, order preserved', async () => {
      const store = await newStore();
      expect(await store.transcripts.loadTranscript('s1')).toEqual([]);
      expect(await store.transcripts.appendTranscript('s1', [entry('u1'), entry(undefined, 'a'), entry('u2')])).toBe(3);
      expect(await store.transcripts.appendTranscript('s1', [entry('u2'), entry('u3'), entry(undefined, 'a'), entry('u3'), entry('u1')])).toBe(2);
      expect(await store.transcripts.appendTranscript('s1', [])).toBe(0);
      const loaded = await store.transcripts.loadTranscript('s1');
      expect(loaded).toEqual([entry('u1'), entry(undefined, 'a'), entry('u2'), entry('u3'), entry(undefined, 'a')]);
      expect(await store.transcripts.loadTranscript('s2')).toEqual([]);
      expect(await store.transcripts.appendTranscript('s2', [entry('u1', 'x', 'sub/agent-1')])).toBe(1);
      expect(await store.transcripts.loadTranscript('s2')).toEqual([entry('u1', 'x', 'sub/agent-1')]);
    });

    it('concurrent appends of the same uuids store each uuid once', async () => {
      const store = await newStore();
      const batches = Array.from({ length: 10 }, () => [entry('u1'), entry('u2'), entry('u3')]);
      const counts = await Promise.all(batches.map((b) => store.transcripts.appendTranscript('s1', b)));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
      expect((await store.transcripts.loadTranscript('s1')).map((e) => e.entry.uuid)).toEqual(['u1', 'u2', 'u3']);
    });
  });
}
