// The UsageLedger contract (gateway/src/store/usage-ledger.ts): tenant and session counters, and
// no lost increment under concurrency.
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { contractKit, usage, type StoreContractOptions } from './store-contract-kit.js';

export function runUsageLedgerContract(options: StoreContractOptions): void {
  describe(`UsageLedger contract: ${options.name}`, () => {
    const { newStore, it } = contractKit(options);

    it('counts per tenant and per session; tenants are separate', async () => {
      const store = await newStore();
      expect(await store.usage.getUsage('alice')).toEqual({ tenant: usage(0), sessions: {} });
      await store.usage.addUsage('alice', 's1', usage(10));
      await store.usage.addUsage('alice', 's1', usage(5));
      await store.usage.addUsage('alice', 's2', { inputTokens: 1, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 7 });
      await store.usage.addUsage('bob', 's3', usage(2));
      const alice = await store.usage.getUsage('alice');
      expect(alice.tenant).toEqual({ inputTokens: 16, outputTokens: 30, cacheCreationInputTokens: 45, cacheReadInputTokens: 67 });
      expect(alice.sessions.s1).toEqual(usage(15));
      expect(alice.sessions.s2).toEqual({ inputTokens: 1, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 7 });
      expect(alice.sessions.s3).toBeUndefined();
      expect(await store.usage.getUsage('bob')).toEqual({ tenant: usage(2), sessions: { s3: usage(2) } });
    });

    it('concurrent addUsage loses no increment', async () => {
      const store = await newStore();
      await Promise.all(Array.from({ length: 40 }, () => store.usage.addUsage('alice', 's1', usage(1))));
      expect((await store.usage.getUsage('alice')).tenant).toEqual(usage(40));
    });
  });
}
