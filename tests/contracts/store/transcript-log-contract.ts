// The TranscriptLog contract (gateway/src/store/transcript-log.ts): order; idempotency on entry
// uuid and, for uuid-less entries, on the batch's keys; concurrent appends of the same entries;
// the per-session byte cap (a typed refusal, all or nothing, never passed under a race).
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import type { StoredTranscriptEntry } from '@berth/protocol';
import type { TranscriptAppend } from '@berth/gateway';
import { contractKit, entry, record, type StoreContractOptions } from './store-contract-kit.js';

const appended = (n: number) => expect.objectContaining({ kind: 'appended', appended: n });
const bytesOf = (entries: StoredTranscriptEntry[]) => entries.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e), 'utf8'), 0);

export function runTranscriptLogContract(options: StoreContractOptions): void {
  describe(`TranscriptLog contract: ${options.name}`, () => {
    const { newStore, it } = contractKit(options);

    it('idempotent on uuid, entries without uuid always appended, order preserved', async () => {
      const store = await newStore();
      expect(await store.transcripts.loadTranscript('s1')).toEqual([]);
      expect(await store.transcripts.appendTranscript('s1', [entry('u1'), entry(undefined, 'a'), entry('u2')])).toEqual(appended(3));
      expect(await store.transcripts.appendTranscript('s1', [entry('u2'), entry('u3'), entry(undefined, 'a'), entry('u3'), entry('u1')])).toEqual(appended(2));
      expect(await store.transcripts.appendTranscript('s1', [])).toEqual(appended(0));
      const loaded = await store.transcripts.loadTranscript('s1');
      expect(loaded).toEqual([entry('u1'), entry(undefined, 'a'), entry('u2'), entry('u3'), entry(undefined, 'a')]);
      expect(await store.transcripts.loadTranscript('s2')).toEqual([]);
      expect(await store.transcripts.appendTranscript('s2', [entry('u1', 'x', 'sub/agent-1')])).toEqual(appended(1));
      expect(await store.transcripts.loadTranscript('s2')).toEqual([entry('u1', 'x', 'sub/agent-1')]);
    });

    it('concurrent appends of the same uuids store each uuid once', async () => {
      const store = await newStore();
      const batches = Array.from({ length: 10 }, () => [entry('u1'), entry('u2'), entry('u3')]);
      const results = await Promise.all(batches.map((b) => store.transcripts.appendTranscript('s1', b)));
      expect(results.reduce((a, r) => a + (r.kind === 'appended' ? r.appended : 0), 0)).toBe(3);
      expect((await store.transcripts.loadTranscript('s1')).map((e) => e.entry.uuid)).toEqual(['u1', 'u2', 'u3']);
    });

    it('a uuid-less entry with an idempotency key is stored once per key; uuids win over keys; keys and uuids never collide', async () => {
      const store = await newStore();
      // A batch re-sent after an ambiguous failure (a stalled store): same entries, same keys.
      const batch = [entry(undefined, 'a'), entry('u1'), entry(undefined, 'b')];
      const keys = ['sdk:main:1:0', 'sdk:main:1:1', 'sdk:main:1:2'];
      expect(await store.transcripts.appendTranscript('s1', batch, keys)).toEqual(appended(3));
      expect(await store.transcripts.appendTranscript('s1', batch, keys)).toEqual(appended(0));
      // The entry with a uuid is deduplicated on its uuid, whatever key rides beside it.
      expect(await store.transcripts.appendTranscript('s1', [entry('u1')], ['another-key'])).toEqual(appended(0));
      // A key equal to a stored uuid is a different idempotency key; a key in a batch twice counts once.
      expect(await store.transcripts.appendTranscript('s1', [entry(undefined, 'c'), entry(undefined, 'c')], ['u1', 'u1'])).toEqual(appended(1));
      // No key (short array, empty string): always appended, as before keys existed.
      expect(await store.transcripts.appendTranscript('s1', [entry(undefined, 'd'), entry(undefined, 'e')], [''])).toEqual(appended(2));
      expect((await store.transcripts.loadTranscript('s1')).map((e) => e.entry.uuid ?? (e.entry.message as { content: string }).content)).toEqual([
        'a', 'u1', 'b', 'c', 'd', 'e',
      ]);
    });

    it('concurrent re-sends of one keyed batch store each entry once', async () => {
      const store = await newStore();
      const batch = Array.from({ length: 5 }, (_, i) => entry(undefined, `line-${i}`));
      const keys = batch.map((_, i) => `sdk:main:7:${i}`);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.transcripts.appendTranscript('s1', batch, keys)));
      expect(results.reduce((a, r) => a + (r.kind === 'appended' ? r.appended : 0), 0)).toBe(5);
      expect(await store.transcripts.loadTranscript('s1')).toEqual(batch);
    });

    it('byte cap: a batch that would pass it is refused whole with a typed outcome; duplicates cost nothing; delete frees it', async () => {
      const one = [entry('u1', 'x'.repeat(100))];
      const size = bytesOf(one);
      // Room for exactly three entries of this size.
      const store = await newStore({ maxTranscriptBytes: size * 3 });
      expect(await store.transcripts.appendTranscript('s1', one)).toEqual({ kind: 'appended', appended: 1, storedBytes: size });
      const two = [entry('u2', 'x'.repeat(100)), entry('u3', 'x'.repeat(100))];
      expect(bytesOf(two)).toBe(size * 2);
      expect(await store.transcripts.appendTranscript('s1', two)).toEqual({ kind: 'appended', appended: 2, storedBytes: size * 3 });
      // Full: the next entry is refused, nothing of its batch is stored, the caller is told why.
      const refused: TranscriptAppend = await store.transcripts.appendTranscript('s1', [entry('u1', 'x'.repeat(100)), entry('u4', 'y')]);
      expect(refused).toEqual({ kind: 'over_limit', storedBytes: size * 3, batchBytes: bytesOf([entry('u4', 'y')]), maxBytes: size * 3 });
      expect((await store.transcripts.loadTranscript('s1')).map((e) => e.entry.uuid)).toEqual(['u1', 'u2', 'u3']);
      // Re-sending what is stored is not growth: answered, not refused.
      expect(await store.transcripts.appendTranscript('s1', [...one, ...two])).toEqual({ kind: 'appended', appended: 0, storedBytes: size * 3 });
      // Other sessions have their own cap.
      expect(await store.transcripts.appendTranscript('s2', [entry('u4', 'y')])).toEqual(appended(1));
      // Deleting the session frees its bytes with its transcript.
      await store.sessions.createSession(record('s1', 'alice'));
      await store.sessions.deleteSession('s1');
      expect(await store.transcripts.appendTranscript('s1', two)).toEqual({ kind: 'appended', appended: 2, storedBytes: size * 2 });
    });

    it('byte cap under a race: 10 concurrent appends with room for 3 store exactly 3', async () => {
      const batches = Array.from({ length: 10 }, (_, i) => [entry(`u${i}`, 'z'.repeat(50 - String(i).length))]);
      const size = bytesOf(batches[0]!);
      expect(batches.every((b) => bytesOf(b) === size)).toBe(true);
      const store = await newStore({ maxTranscriptBytes: size * 3 });
      const results = await Promise.all(batches.map((b) => store.transcripts.appendTranscript('s1', b)));
      expect(results.filter((r) => r.kind === 'appended')).toHaveLength(3);
      expect(results.filter((r) => r.kind === 'over_limit')).toHaveLength(7);
      expect(await store.transcripts.loadTranscript('s1')).toHaveLength(3);
    });
  });
}
