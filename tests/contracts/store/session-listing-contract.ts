// The SessionListing contract (gateway/src/store/session-listing.ts): per-tenant pages (newest
// first, keyed by (createdAt, id)) and the all-tenant cursor walk: order, limit bounds, the end,
// and the walk's guarantee under concurrent creates and deletes (none twice; one that exists for
// the whole walk exactly once).
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { MAX_SESSION_PAGE, type Store, type TenantListingKey } from '@berth/gateway';
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
      expect((await store.listing.listSessions('alice')).sessions.map((s) => s.id)).toEqual(['a3', 'a2', 'a1']);
      expect(await store.listing.listSessions('bob')).toEqual({ sessions: [record('b2', 'bob', { createdAt: T0 + 2 })], next: null });
      expect(await store.listing.listSessions('carol')).toEqual({ sessions: [], next: null });
    });

    it('listSessions pages: newest first, ties by id descending, each key resumes right after itself, a null next at the end', async () => {
      const store = await newStore();
      // 23 sessions over 6 creation times (ties of up to 4), plus another tenant's in between.
      const ids = Array.from({ length: 23 }, (_, i) => `s-${String((i * 7) % 23).padStart(2, '0')}`);
      for (const [i, id] of ids.entries()) await store.sessions.createSession(record(id, 'alice', { createdAt: T0 + (i % 6) }));
      for (let i = 0; i < 5; i++) await store.sessions.createSession(record(`b-${i}`, 'bob', { createdAt: T0 + i }));
      const expected = ids.map((id, i) => ({ createdAt: T0 + (i % 6), id })).sort(newestFirst).map((k) => k.id);
      const walk = await walkTenant(store, 'alice', 4);
      expect(walk.ids).toEqual(expected);
      expect(walk.pages).toEqual([4, 4, 4, 4, 4, 3]);
      // Exactly `limit` left: no further page is announced.
      const lastThree = await store.listing.listSessions('alice', { after: walk.keys[expected.length - 4]!, limit: 3 });
      expect(lastThree).toMatchObject({ next: null });
      expect(lastThree.sessions.map((s) => s.id)).toEqual(expected.slice(-3));
      // Past the end (older than every session), and a tenant with nothing: empty, no next.
      expect(await store.listing.listSessions('alice', { after: { createdAt: T0 - 1, id: 'zzz' }, limit: 5 })).toEqual({ sessions: [], next: null });
      expect(await store.listing.listSessions('carol', { after: { createdAt: T0, id: 's-00' }, limit: 5 })).toEqual({ sessions: [], next: null });
      // A key whose session is gone (or never existed) still places the page exactly.
      const cut = walk.keys[1]!;
      await store.sessions.deleteSession(cut.id);
      const resumed = await store.listing.listSessions('alice', { after: cut, limit: 100 });
      expect(resumed.sessions.map((s) => s.id)).toEqual(expected.slice(expected.indexOf(cut.id) + 1));
      const probe = { createdAt: T0 + 3, id: 's-10x' };
      const afterProbe = await store.listing.listSessions('alice', { after: probe, limit: 100 });
      expect(afterProbe.sessions.map((s) => s.id)).toEqual(expected.filter((id) => id !== cut.id && newestFirst(keyOf(id), probe) > 0));
      // The limit is bounded: 0 or negative still returns one, a huge one at most MAX_SESSION_PAGE.
      expect((await store.listing.listSessions('alice', { after: null, limit: 0 })).sessions).toHaveLength(1);
      expect((await store.listing.listSessions('alice', { after: null, limit: -5 })).sessions).toHaveLength(1);
      expect(MAX_SESSION_PAGE).toBe(1000);

      function keyOf(id: string): TenantListingKey {
        return { createdAt: T0 + (ids.indexOf(id) % 6), id };
      }
    });

    it('listSessions: a page of a huge limit stops at MAX_SESSION_PAGE', async () => {
      const store = await newStore();
      // In batches of 100: a thousand creates at once could outwait a busy machine's command timeout.
      for (let from = 0; from < MAX_SESSION_PAGE + 5; from += 100) {
        const batch = Array.from({ length: Math.min(100, MAX_SESSION_PAGE + 5 - from) }, (_, i) => from + i);
        await Promise.all(batch.map((i) => store.sessions.createSession(record(`m-${i}`, 'alice', { createdAt: T0 + i }))));
      }
      const page = await store.listing.listSessions('alice', { after: null, limit: 1_000_000 });
      expect(page.sessions).toHaveLength(MAX_SESSION_PAGE);
      expect(page.sessions[0]!.id).toBe(`m-${MAX_SESSION_PAGE + 4}`);
      expect(page.next).toEqual({ createdAt: T0 + 5, id: 'm-5' });
      expect((await store.listing.listSessions('alice', { after: page.next, limit: 1_000_000 })).sessions.map((s) => s.id)).toEqual(['m-4', 'm-3', 'm-2', 'm-1', 'm-0']);
    }, 30_000);

    it('listSessions: under concurrent creates and deletes, none is returned twice and every session present for the whole walk exactly once', async () => {
      const store = await newStore();
      const stable = await seed(store, 'stable', 60);
      const doomed = await seed(store, 'doomed', 30);
      let walking = true;
      const churn = (async () => {
        // New sessions land before, inside (ties) and after the walk's position; doomed ones go.
        for (let i = 0; walking || i < doomed.length; i++) {
          await store.sessions.createSession(record(`new-${i}`, 'alice', { createdAt: T0 + ((i * 13) % 90) }));
          if (i < doomed.length) await store.sessions.deleteSession(doomed[i]!);
        }
      })();
      const walk = await walkTenant(store, 'alice', 7);
      walking = false;
      await churn;
      expectWalk(walk.ids, stable);
      for (const id of walk.ids) expect(id).toMatch(/^(stable|doomed|new)-/);
    });

    it('listAllSessions: under concurrent creates and deletes, none is returned twice and every session present for the whole walk exactly once', async () => {
      const store = await newStore();
      const stable = await seed(store, 'stable', 60);
      const doomed = await seed(store, 'doomed', 30);
      let walking = true;
      const churn = (async () => {
        for (let i = 0; walking || i < doomed.length; i++) {
          await store.sessions.createSession(record(`new-${i}`, i % 2 ? 'alice' : 'bob', { createdAt: T0 + i }));
          if (i < doomed.length) await store.sessions.deleteSession(doomed[i]!);
        }
      })();
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await store.listing.listAllSessions({ cursor, limit: 7 });
        ids.push(...page.sessions.map((s) => s.id));
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      walking = false;
      await churn;
      expect(cursor).toBeNull();
      expectWalk(ids, stable);
      // Id order throughout: a cursor walk never goes back.
      expect(ids).toEqual([...ids].sort());
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

function newestFirst(a: TenantListingKey, b: TenantListingKey): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Every page of a tenant's listing; the page sizes and the key each page ended on. */
async function walkTenant(store: Store, tenant: string, limit: number): Promise<{ ids: string[]; pages: number[]; keys: TenantListingKey[] }> {
  const ids: string[] = [];
  const pages: number[] = [];
  const keys: TenantListingKey[] = [];
  let after: TenantListingKey | null = null;
  for (let n = 0; n < 1000; n++) {
    const page = await store.listing.listSessions(tenant, { after, limit });
    expect(page.sessions.length).toBeLessThanOrEqual(limit);
    for (const s of page.sessions) {
      expect(s.tenant).toBe(tenant);
      keys.push({ createdAt: s.createdAt, id: s.id });
    }
    ids.push(...page.sessions.map((s) => s.id));
    pages.push(page.sessions.length);
    if (page.next === null) return { ids, pages, keys };
    // The order never goes back: each page starts after the key the last one ended on.
    if (page.sessions.length > 0) expect(page.next).toEqual(keys[keys.length - 1]);
    after = page.next;
  }
  throw new Error(`the listing of ${tenant} did not end within 1000 pages`);
}

/** `count` sessions of alice, ids `<prefix>-NN`, spread over creation times with ties. */
async function seed(store: Store, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
  await Promise.all(ids.map((id, i) => store.sessions.createSession(record(id, 'alice', { createdAt: T0 + ((i * 7) % 90) }))));
  return ids;
}

/** None twice; every one of `stable` (present for the whole walk) exactly once. */
function expectWalk(ids: string[], stable: string[]): void {
  expect(new Set(ids).size).toBe(ids.length);
  const seen = new Set(ids);
  expect(stable.filter((id) => !seen.has(id))).toEqual([]);
}
