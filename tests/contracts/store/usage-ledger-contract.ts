// The UsageLedger contract (gateway/src/store/usage-ledger.ts): tenant and session counters, no
// lost increment under concurrency, the narrow reads (usageSummary: totals and session count;
// sessionUsage: one session or null), usagePage: session-id order, each page resuming right
// after its last id, the totals on every page, the limit's bounds, and a walk that returns every
// session exactly once while other sessions are metered concurrently; and a ledger added to with
// ttlMs expiring whole (totals, counters, index) while the others stay.
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { MAX_USAGE_PAGE, type Store, type UsagePage } from '@berth/gateway';
import { waitFor } from '../../fixtures/wait-for.js';
import { contractKit, usage, type StoreContractOptions } from './store-contract-kit.js';

export function runUsageLedgerContract(options: StoreContractOptions): void {
  describe(`UsageLedger contract: ${options.name}`, () => {
    const { newStore, it, advance } = contractKit(options);

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

    it('usageSummary: the totals and the number of sessions, per tenant; sessionUsage: one session or null', async () => {
      const store = await newStore();
      expect(await store.usage.usageSummary('alice')).toEqual({ tenant: usage(0), sessionCount: 0 });
      expect(await store.usage.sessionUsage('alice', 's1')).toBeNull();
      await store.usage.addUsage('alice', 's1', usage(1));
      await store.usage.addUsage('alice', 's2', usage(2));
      await store.usage.addUsage('alice', 's1', usage(3));
      // A session metered only zeros still has (zero) counters and counts as a session.
      await store.usage.addUsage('alice', 's0', usage(0));
      await store.usage.addUsage('bob', 's3', usage(5));
      expect(await store.usage.usageSummary('alice')).toEqual({ tenant: usage(6), sessionCount: 3 });
      expect(await store.usage.usageSummary('bob')).toEqual({ tenant: usage(5), sessionCount: 1 });
      expect(await store.usage.sessionUsage('alice', 's1')).toEqual(usage(4));
      expect(await store.usage.sessionUsage('alice', 's2')).toEqual(usage(2));
      expect(await store.usage.sessionUsage('alice', 's0')).toEqual(usage(0));
      // Another tenant's session, an unknown one, an unknown tenant: none.
      expect(await store.usage.sessionUsage('alice', 's3')).toBeNull();
      expect(await store.usage.sessionUsage('alice', 's9')).toBeNull();
      expect(await store.usage.sessionUsage('carol', 's1')).toBeNull();
      // The same counters the page and the whole report read.
      const page = await store.usage.usagePage('alice', { after: null, limit: 10 });
      expect(page.sessions.map((s) => s.sessionId)).toEqual(['s0', 's1', 's2']);
      expect(page.tenant).toEqual(usage(6));
      expect((await store.usage.getUsage('alice')).sessions.s1).toEqual(usage(4));
    });

    it('ttlMs: the ledger expires whole (totals, counters, index) and starts afresh; ledgers without one stay', async () => {
      const store = await newStore();
      const window = 'budget|alice|1';
      // A long TTL: readable like any ledger (this test never waits for it).
      await store.usage.addUsage('budget|alice|0', 'window', usage(7), { ttlMs: 600_000 });
      await store.usage.addUsage('alice', 's1', usage(1));
      await store.usage.addUsage(window, 'window', usage(2), { ttlMs: 100 });
      await store.usage.addUsage(window, 'other', usage(3), { ttlMs: 100 });
      await advance(100);
      await waitFor('the short-lived ledger to expire', async () => (await store.usage.usageSummary(window)).sessionCount === 0);
      expect(await store.usage.usageSummary(window)).toEqual({ tenant: usage(0), sessionCount: 0 });
      expect(await store.usage.usagePage(window, { after: null, limit: 10 })).toEqual({ tenant: usage(0), sessions: [], next: null });
      expect(await store.usage.sessionUsage(window, 'window')).toBeNull();
      expect(await store.usage.getUsage(window)).toEqual({ tenant: usage(0), sessions: {} });
      // The others are untouched: the lifetime ledger has no expiry, the long TTL has not passed.
      expect(await store.usage.usagePage('alice', { after: null, limit: 10 })).toEqual({ tenant: usage(1), sessions: [{ sessionId: 's1', usage: usage(1) }], next: null });
      expect(await store.usage.usageSummary('budget|alice|0')).toEqual({ tenant: usage(7), sessionCount: 1 });
      // Metered again after it expired: a fresh ledger, its index holding only the new session.
      await store.usage.addUsage(window, 'window', usage(4), { ttlMs: 600_000 });
      expect(await store.usage.usagePage(window, { after: null, limit: 10 })).toEqual({ tenant: usage(4), sessions: [{ sessionId: 'window', usage: usage(4) }], next: null });
    });

    it('usagePage: session-id order, each page resumes right after its last id, totals on every page, a null next at the end', async () => {
      const store = await newStore();
      expect(await store.usage.usagePage('alice', { after: null, limit: 10 })).toEqual({ tenant: usage(0), sessions: [], next: null });
      // 23 sessions metered in scrambled order (some twice), byte order mixing cases and digits.
      const ids = Array.from({ length: 23 }, (_, i) => `${['s', 'S', '0'][i % 3]}-${String((i * 7) % 23).padStart(2, '0')}`);
      for (const [i, id] of ids.entries()) await store.usage.addUsage('alice', id, usage(i + 1));
      await store.usage.addUsage('alice', ids[4]!, usage(100));
      await store.usage.addUsage('bob', 'b-1', usage(9));
      const sorted = [...ids].sort();
      const total = usage(ids.reduce((n, _, i) => n + i + 1, 100));
      const pages = await walk(store, 'alice', 4);
      expect(pages.map((p) => p.sessions.length)).toEqual([4, 4, 4, 4, 4, 3]);
      expect(pages.flatMap((p) => p.sessions.map((s) => s.sessionId))).toEqual(sorted);
      for (const page of pages) expect(page.tenant).toEqual(total);
      for (const page of pages.slice(0, -1)) expect(page.next).toBe(page.sessions[page.sessions.length - 1]!.sessionId);
      const counters = Object.fromEntries(pages.flatMap((p) => p.sessions.map((s) => [s.sessionId, s.usage])));
      expect(counters).toEqual(Object.fromEntries(ids.map((id, i) => [id, usage(i + 1 + (i === 4 ? 100 : 0))])));
      // Exactly `limit` left: no further page is announced.
      const lastThree = await store.usage.usagePage('alice', { after: sorted[sorted.length - 4]!, limit: 3 });
      expect(lastThree.sessions.map((s) => s.sessionId)).toEqual(sorted.slice(-3));
      expect(lastThree.next).toBeNull();
      // An id that is not in the ledger still places the page exactly; past the end is empty.
      expect((await store.usage.usagePage('alice', { after: 'S-05x', limit: 100 })).sessions.map((s) => s.sessionId)).toEqual(sorted.filter((id) => id > 'S-05x'));
      expect(await store.usage.usagePage('alice', { after: 'zzz', limit: 5 })).toEqual({ tenant: total, sessions: [], next: null });
      // Another tenant's page holds only its own.
      expect(await store.usage.usagePage('bob', { after: null, limit: 5 })).toEqual({ tenant: usage(9), sessions: [{ sessionId: 'b-1', usage: usage(9) }], next: null });
      // The limit is bounded: 0 or negative still returns one.
      expect((await store.usage.usagePage('alice', { after: null, limit: 0 })).sessions).toHaveLength(1);
      expect((await store.usage.usagePage('alice', { after: null, limit: -5 })).sessions).toHaveLength(1);
    });

    it('usagePage: a page of a huge limit stops at MAX_USAGE_PAGE', async () => {
      const store = await newStore();
      const count = MAX_USAGE_PAGE + 5;
      // In batches of 100: a thousand writes at once could outwait a busy machine's command timeout.
      for (let from = 0; from < count; from += 100) {
        const batch = Array.from({ length: Math.min(100, count - from) }, (_, i) => from + i);
        await Promise.all(batch.map((i) => store.usage.addUsage('alice', `m-${String(i).padStart(4, '0')}`, usage(1))));
      }
      const page = await store.usage.usagePage('alice', { after: null, limit: 1_000_000 });
      expect(page.sessions).toHaveLength(MAX_USAGE_PAGE);
      expect(page.tenant).toEqual(usage(count));
      expect(page.next).toBe(`m-${String(MAX_USAGE_PAGE - 1).padStart(4, '0')}`);
      const rest = await store.usage.usagePage('alice', { after: page.next, limit: 1_000_000 });
      expect(rest.sessions.map((s) => s.sessionId)).toEqual(['m-1000', 'm-1001', 'm-1002', 'm-1003', 'm-1004']);
      expect(rest.next).toBeNull();
      expect(MAX_USAGE_PAGE).toBe(1000);
    }, 30_000);

    it('usagePage: while sessions are metered concurrently, none is returned twice and every session metered before the walk exactly once', async () => {
      const store = await newStore();
      const before = Array.from({ length: 60 }, (_, i) => `old-${String((i * 37) % 60).padStart(2, '0')}`);
      for (const id of before) await store.usage.addUsage('alice', id, usage(1));
      let walking = true;
      const metering = (async () => {
        // New sessions land before, among and after the walk's position; old ones keep counting.
        for (let i = 0; walking || i < 20; i++) {
          await store.usage.addUsage('alice', `${['a', 'old-3', 'z'][i % 3]}-new-${i}`, usage(1));
          await store.usage.addUsage('alice', before[i % before.length]!, usage(1));
        }
      })();
      const ids = (await walk(store, 'alice', 7)).flatMap((p) => p.sessions.map((s) => s.sessionId));
      walking = false;
      await metering;
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => id.startsWith('old-') && !id.includes('new')).sort()).toEqual([...before].sort());
      // Id order throughout: a cursor walk never goes back.
      expect(ids).toEqual([...ids].sort());
    });
  });
}

/** Every page of the tenant's usage, `limit` at a time, to the page with a null next. */
async function walk(store: Store, tenant: string, limit: number): Promise<UsagePage[]> {
  const pages: UsagePage[] = [];
  let after: string | null = null;
  do {
    const page: UsagePage = await store.usage.usagePage(tenant, { after, limit });
    expect(page.sessions.length).toBeLessThanOrEqual(limit);
    pages.push(page);
    after = page.next;
  } while (after !== null && pages.length < 1000);
  expect(after).toBeNull();
  return pages;
}
