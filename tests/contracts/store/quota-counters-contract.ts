// The QuotaCounters contract (gateway/src/store/quota-counters.ts): the rate bucket (refill,
// retry hint, exact admission under a race) and lease sets (limit, renewal, release, expiry of
// an unrenewed lease, exact admission under a race).
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { contractKit, type StoreContractOptions } from './store-contract-kit.js';

export function runQuotaCountersContract(options: StoreContractOptions): void {
  describe(`QuotaCounters contract: ${options.name}`, () => {
    const { newStore, it, advance } = contractKit(options);

    it('takeRateToken: a full bucket of `capacity`, then refusals with a retry hint, refilled over time; tenants separate', async () => {
      const store = await newStore();
      // 20 tokens/s: one token per 50 ms, so the few ms between calls refill far below one token.
      expect(await store.quotas.takeRateToken('alice', 2, 20)).toEqual({ ok: true, remaining: 1 });
      expect(await store.quotas.takeRateToken('alice', 2, 20)).toEqual({ ok: true, remaining: 0 });
      const refused = await store.quotas.takeRateToken('alice', 2, 20);
      expect(refused.ok).toBe(false);
      if (!refused.ok) {
        expect(refused.retryAfterMs).toBeGreaterThanOrEqual(1);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(50);
      }
      expect((await store.quotas.takeRateToken('bob', 2, 20)).ok).toBe(true);
      await advance(150);
      expect((await store.quotas.takeRateToken('alice', 2, 20)).ok).toBe(true);
    });

    it('takeRateToken: of 30 concurrent takes on a bucket of 10 with a slow refill, exactly 10 succeed', async () => {
      const store = await newStore();
      const takes = await Promise.all(Array.from({ length: 30 }, () => store.quotas.takeRateToken('alice', 10, 0.01)));
      expect(takes.filter((t) => t.ok)).toHaveLength(10);
    });

    it('acquireLease: admits up to limit, renews a present holder even when full, release frees a slot; kinds and tenants separate', async () => {
      const store = await newStore();
      expect(await store.quotas.acquireLease('alice', 'turns', 'h1', 2, 60_000)).toEqual({ ok: true, held: 1 });
      expect(await store.quotas.acquireLease('alice', 'turns', 'h2', 2, 60_000)).toEqual({ ok: true, held: 2 });
      expect(await store.quotas.acquireLease('alice', 'turns', 'h3', 2, 60_000)).toEqual({ ok: false, held: 2 });
      expect(await store.quotas.acquireLease('alice', 'turns', 'h1', 2, 60_000)).toEqual({ ok: true, held: 2 });
      expect(await store.quotas.acquireLease('alice', 'sessions', 'h3', 2, 60_000)).toEqual({ ok: true, held: 1 });
      expect(await store.quotas.acquireLease('bob', 'turns', 'h3', 2, 60_000)).toEqual({ ok: true, held: 1 });
      await store.quotas.releaseLease('alice', 'turns', 'h2');
      await store.quotas.releaseLease('alice', 'turns', 'absent');
      expect(await store.quotas.acquireLease('alice', 'turns', 'h3', 2, 60_000)).toEqual({ ok: true, held: 2 });
    });

    it('acquireLease: 20 concurrent holders on a limit of 5 admit exactly 5', async () => {
      const store = await newStore();
      const got = await Promise.all(Array.from({ length: 20 }, (_, i) => store.quotas.acquireLease('alice', 'turns', `h${i}`, 5, 60_000)));
      expect(got.filter((g) => g.ok)).toHaveLength(5);
      expect(await store.quotas.acquireLease('alice', 'turns', 'late', 5, 60_000)).toEqual({ ok: false, held: 5 });
    });

    it('acquireLease: a lease not renewed expires (a crashed holder leaks no slot); a renewed one stays', async () => {
      // TTL 2 s; the renewal at 1.2 s and the check at 2.4 s: the unrenewed lease is past its TTL
      // whatever the delays (they only add), the renewed one has 0.8 s to spare on a loaded machine.
      const store = await newStore();
      expect((await store.quotas.acquireLease('alice', 'turns', 'crashed', 2, 2000)).ok).toBe(true);
      expect((await store.quotas.acquireLease('alice', 'turns', 'alive', 2, 2000)).ok).toBe(true);
      await advance(1200);
      expect((await store.quotas.acquireLease('alice', 'turns', 'alive', 2, 2000)).ok).toBe(true);
      await advance(1200);
      expect(await store.quotas.acquireLease('alice', 'turns', 'new', 2, 2000)).toEqual({ ok: true, held: 2 });
      expect(await store.quotas.acquireLease('alice', 'turns', 'crashed', 2, 2000)).toEqual({ ok: false, held: 2 });
    }, 15_000);
  });
}
