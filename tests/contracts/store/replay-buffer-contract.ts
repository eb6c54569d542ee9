// The ReplayBuffer contract (gateway/src/store/replay-buffer.ts): frames after an id, the frame
// bound, reset, and the TTL re-armed by each append.
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { contractKit, frame, type StoreContractOptions } from './store-contract-kit.js';

export function runReplayBufferContract(options: StoreContractOptions): void {
  describe(`ReplayBuffer contract: ${options.name}`, () => {
    const { newStore, it, advance } = contractKit(options);

    it('replaySince returns the frames after the id, in order; an unknown id or session is "unknown"', async () => {
      const store = await newStore();
      for (let i = 1; i <= 4; i++) await store.replay.appendReplay('s1', frame(i));
      expect(await store.replay.replaySince('s1', '2')).toEqual({ kind: 'frames', frames: [frame(3), frame(4)] });
      expect(await store.replay.replaySince('s1', '4')).toEqual({ kind: 'frames', frames: [] });
      expect(await store.replay.replaySince('s1', '9')).toEqual({ kind: 'unknown' });
      expect(await store.replay.replaySince('s1', '')).toEqual({ kind: 'unknown' });
      expect(await store.replay.replaySince('s2', '1')).toEqual({ kind: 'unknown' });
      // Ids that are prefixes of one another are told apart; data survives byte for byte.
      await store.replay.appendReplay('s3', { id: '1', data: 'one' });
      await store.replay.appendReplay('s3', { id: '10', event: 'done', data: 'ünï\ncode' });
      expect(await store.replay.replaySince('s3', '1')).toEqual({ kind: 'frames', frames: [{ id: '10', event: 'done', data: 'ünï\ncode' }] });
    });

    it('keeps only the newest maxFrames; an evicted id is "unknown"', async () => {
      const store = await newStore({ replayMaxFrames: 3 });
      for (let i = 1; i <= 5; i++) await store.replay.appendReplay('s1', frame(i));
      expect(await store.replay.replaySince('s1', '2')).toEqual({ kind: 'unknown' });
      expect(await store.replay.replaySince('s1', '3')).toEqual({ kind: 'frames', frames: [frame(4), frame(5)] });
    });

    it('resetReplay drops the buffer', async () => {
      const store = await newStore();
      await store.replay.appendReplay('s1', frame(1));
      await store.replay.resetReplay('s1');
      expect(await store.replay.replaySince('s1', '1')).toEqual({ kind: 'unknown' });
      await store.replay.appendReplay('s1', frame(2));
      expect(await store.replay.replaySince('s1', '2')).toEqual({ kind: 'frames', frames: [] });
    });

    it('expires replayTtlS after its last frame (each append re-arms the TTL)', async () => {
      // TTL 2 s; 1.2 s between appends and before the first check: past the first append's TTL,
      // within the second's, with 0.8 s to spare for a loaded machine.
      const store = await newStore({ replayTtlS: 2 });
      await store.replay.appendReplay('s1', frame(1));
      await advance(1200);
      await store.replay.appendReplay('s1', frame(2));
      await advance(1200);
      expect(await store.replay.replaySince('s1', '1')).toEqual({ kind: 'frames', frames: [frame(2)] });
      await advance(2500);
      expect(await store.replay.replaySince('s1', '1')).toEqual({ kind: 'unknown' });
    }, 15_000);
  });
}
