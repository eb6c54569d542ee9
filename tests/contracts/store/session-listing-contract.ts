// The SessionListing contract (gateway/src/store/session-listing.ts): per-tenant listing and the
// all-tenant cursor walk.
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { contractKit, T0, record, type StoreContractOptions } from './store-contract-kit.js';

export function runSessionListingContract(options: StoreContractOptions): void {
  describe(`SessionListing contract: ${options.name}`, () => {
    const { newStore, it } = contractKit(options);

    it('listSessions: only the tenant’s sessions, newest first', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('a1', 'alice', { createdAt: T0 + 1 }));
      await store.sessions.createSession(record('a3', 'alice', { createdAt: T0 + 3 }));
      await store.sessions.createSession(record('b2', 'bob', { createdAt: T0 + 2 }));
      await store.sessions.createSession(record('a2', 'alice', { createdAt: T0 + 2 }));
      expect((await store.listing.listSessions('alice')).map((s) => s.id)).toEqual(['a3', 'a2', 'a1']);
      expect(await store.listing.listSessions('bob')).toEqual([record('b2', 'bob', { createdAt: T0 + 2 })]);
      expect(await store.listing.listSessions('carol')).toEqual([]);
    });

    it('listAllSessions: every tenant, id order, cursor pages without repeats, deletes leave the listing', async () => {
      const store = await newStore();
      expect(await store.listing.listAllSessions({ cursor: null, limit: 10 })).toEqual({ sessions: [], nextCursor: null });
      const ids = ['b-2', 'a-1', 'c-3', 'A-0', 'a-2', 'z_9', '0x'];
      for (const [i, id] of ids.entries()) await store.sessions.createSession(record(id, i % 2 === 0 ? 'alice' : 'bob', { createdAt: T0 + i }));
      const sorted = [...ids].sort();
      const all = await store.listing.listAllSessions({ cursor: null, limit: 100 });
      expect(all.sessions.map((s) => s.id)).toEqual(sorted);
      expect(all.nextCursor).toBeNull();
      expect(all.sessions.find((s) => s.id === 'b-2')).toEqual(record('b-2', 'alice', { createdAt: T0 }));
      // Pages of 3: 3 + 3 + 1, each cursor the last id of its page, the last page without one.
      const seen: string[] = [];
      let cursor: string | null = null;
      const cursors: Array<string | null> = [];
      do {
        const page = await store.listing.listAllSessions({ cursor, limit: 3 });
        expect(page.sessions.length).toBeLessThanOrEqual(3);
        seen.push(...page.sessions.map((s) => s.id));
        cursor = page.nextCursor;
        cursors.push(cursor);
      } while (cursor !== null && cursors.length < 10);
      expect(seen).toEqual(sorted);
      expect(cursors).toEqual([sorted[2], sorted[5], null]);
      // Exactly `limit` left: no further page is announced.
      expect(await store.listing.listAllSessions({ cursor: sorted[3]!, limit: 3 })).toMatchObject({ nextCursor: null });
      // A session deleted mid-walk is not listed; one created behind the cursor is not repeated.
      const first = await store.listing.listAllSessions({ cursor: null, limit: 2 });
      await store.sessions.deleteSession(sorted[3]!);
      await store.sessions.createSession(record('0', 'bob'));
      const rest = await store.listing.listAllSessions({ cursor: first.nextCursor, limit: 100 });
      expect(rest.sessions.map((s) => s.id)).toEqual(sorted.slice(2).filter((id) => id !== sorted[3]));
      // The limit is bounded: 0 or negative still returns one, never "all".
      expect((await store.listing.listAllSessions({ cursor: null, limit: 0 })).sessions).toHaveLength(1);
    });
  });
}
