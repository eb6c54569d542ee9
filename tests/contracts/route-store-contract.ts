// The RouteStore contract, written once and run against every implementation
// (tests/integration/route-store*.test.ts): MemoryRouteStore and RedisRouteStore on a single
// Redis and on a one-node Redis Cluster. It pins every method of the port in
// gateway/src/store/route-store.ts, including its races. Time: the suite owns a fake clock that
// it passes as `now`; a store whose expiries run on a server clock (Redis PX/PEXPIRE) sets
// `serverClock`, and the suite then also waits the time it advances, using TTLs of tens to
// hundreds of milliseconds with wide margins. Each test gets a fresh, empty store.

import { afterEach, describe, expect, test } from 'vitest';
import type { StoredTranscriptEntry } from '@berth/protocol';
import type { RouteStore, RouteStoreLimits, SandboxBinding, SessionRecord } from '@berth/gateway';

export interface RouteStoreContractOptions {
  name: string;
  /** A fresh, empty store using `now` as its clock and `limits` over its defaults. */
  newStore(options: { now: () => number; limits: Partial<RouteStoreLimits> }): Promise<RouteStore>;
  /** Locks and replay buffers expire on the store's own clock: the suite sleeps as it advances. */
  serverClock?: boolean;
  /** Test name → written reason for skipping it on this implementation. */
  skip?: Record<string, string>;
}

const T0 = 1_700_000_000_000;

export function runRouteStoreContract(options: RouteStoreContractOptions): void {
  const open: RouteStore[] = [];
  let clock = T0;
  const now = (): number => clock;
  const advance = async (ms: number): Promise<void> => {
    clock += ms;
    if (options.serverClock) await new Promise((r) => setTimeout(r, ms));
  };
  const newStore = async (limits: Partial<RouteStoreLimits> = {}): Promise<RouteStore> => {
    const store = await options.newStore({ now, limits });
    open.push(store);
    return store;
  };
  const it = (name: string, fn: () => Promise<void>, timeoutMs?: number): void => {
    const reason = options.skip?.[name];
    if (reason) test.skip(`${name} (skipped: ${reason})`, fn);
    else test(name, fn, timeoutMs);
  };

  describe(`RouteStore contract: ${options.name}`, () => {
    afterEach(async () => {
      clock = T0;
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    describe('sessions', () => {
      it('createSession is set-if-absent: created, then owned for the owner and forbidden for others', async () => {
        const store = await newStore();
        const rec = record('s1', 'alice');
        expect(await store.createSession(rec)).toEqual({ kind: 'created', session: rec });
        expect(await store.getSession('s1')).toEqual(rec);
        expect(await store.hasSession('s1')).toBe(true);
        expect(await store.createSession({ ...rec, profile: 'other' })).toEqual({ kind: 'owned', session: rec });
        expect(await store.createSession(record('s1', 'bob'))).toEqual({ kind: 'forbidden' });
        expect(await store.getSession('s1')).toEqual(rec);
        expect(await store.getSession('nope')).toBeNull();
        expect(await store.hasSession('nope')).toBe(false);
      });

      it('50 concurrent createSession on one id by two tenants: exactly one created, the rest consistent', async () => {
        const store = await newStore();
        const tenants = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 'alice' : 'bob'));
        const results = await Promise.all(tenants.map((t, i) => store.createSession(record('race', t, { createdAt: T0 + i }))));
        const created = results.filter((r) => r.kind === 'created');
        expect(created).toHaveLength(1);
        const winner = created[0]!.kind === 'created' ? created[0]!.session : undefined;
        results.forEach((r, i) => {
          if (r.kind === 'created') return;
          if (tenants[i] === winner!.tenant) expect(r).toEqual({ kind: 'owned', session: winner });
          else expect(r).toEqual({ kind: 'forbidden' });
        });
        expect(await store.getSession('race')).toEqual(winner);
        expect((await store.listSessions(winner!.tenant)).map((s) => s.id)).toEqual(['race']);
        expect(await store.listSessions(winner!.tenant === 'alice' ? 'bob' : 'alice')).toEqual([]);
      });

      it('checkAndTouch: absent, forbidden without stamping, owned with the stamp applied and never moved back', async () => {
        const store = await newStore();
        expect(await store.checkAndTouch('s1', 'alice', T0)).toEqual({ kind: 'absent' });
        await store.createSession(record('s1', 'alice'));
        expect(await store.checkAndTouch('s1', 'bob', T0 + 500)).toEqual({ kind: 'forbidden' });
        expect((await store.getSession('s1'))!.lastActivityAt).toBe(T0);
        const owned = await store.checkAndTouch('s1', 'alice', T0 + 1000);
        expect(owned).toEqual({ kind: 'owned', session: { ...record('s1', 'alice'), lastActivityAt: T0 + 1000 } });
        const older = await store.checkAndTouch('s1', 'alice', T0 + 10);
        expect(older.kind === 'owned' && older.session.lastActivityAt).toBe(T0 + 1000);
      });

      it('listSessions: only the tenant’s sessions, newest first', async () => {
        const store = await newStore();
        await store.createSession(record('a1', 'alice', { createdAt: T0 + 1 }));
        await store.createSession(record('a3', 'alice', { createdAt: T0 + 3 }));
        await store.createSession(record('b2', 'bob', { createdAt: T0 + 2 }));
        await store.createSession(record('a2', 'alice', { createdAt: T0 + 2 }));
        expect((await store.listSessions('alice')).map((s) => s.id)).toEqual(['a3', 'a2', 'a1']);
        expect(await store.listSessions('bob')).toEqual([record('b2', 'bob', { createdAt: T0 + 2 })]);
        expect(await store.listSessions('carol')).toEqual([]);
      });

      it('listAllSessions: every tenant, id order, cursor pages without repeats, deletes leave the listing', async () => {
        const store = await newStore();
        expect(await store.listAllSessions({ cursor: null, limit: 10 })).toEqual({ sessions: [], nextCursor: null });
        const ids = ['b-2', 'a-1', 'c-3', 'A-0', 'a-2', 'z_9', '0x'];
        for (const [i, id] of ids.entries()) await store.createSession(record(id, i % 2 === 0 ? 'alice' : 'bob', { createdAt: T0 + i }));
        const sorted = [...ids].sort();
        const all = await store.listAllSessions({ cursor: null, limit: 100 });
        expect(all.sessions.map((s) => s.id)).toEqual(sorted);
        expect(all.nextCursor).toBeNull();
        expect(all.sessions.find((s) => s.id === 'b-2')).toEqual(record('b-2', 'alice', { createdAt: T0 }));
        // Pages of 3: 3 + 3 + 1, each cursor the last id of its page, the last page without one.
        const seen: string[] = [];
        let cursor: string | null = null;
        const cursors: Array<string | null> = [];
        do {
          const page = await store.listAllSessions({ cursor, limit: 3 });
          expect(page.sessions.length).toBeLessThanOrEqual(3);
          seen.push(...page.sessions.map((s) => s.id));
          cursor = page.nextCursor;
          cursors.push(cursor);
        } while (cursor !== null && cursors.length < 10);
        expect(seen).toEqual(sorted);
        expect(cursors).toEqual([sorted[2], sorted[5], null]);
        // Exactly `limit` left: no further page is announced.
        expect(await store.listAllSessions({ cursor: sorted[3]!, limit: 3 })).toMatchObject({ nextCursor: null });
        // A session deleted mid-walk is not listed; one created behind the cursor is not repeated.
        const first = await store.listAllSessions({ cursor: null, limit: 2 });
        await store.deleteSession(sorted[3]!);
        await store.createSession(record('0', 'bob'));
        const rest = await store.listAllSessions({ cursor: first.nextCursor, limit: 100 });
        expect(rest.sessions.map((s) => s.id)).toEqual(sorted.slice(2).filter((id) => id !== sorted[3]));
        // The limit is bounded: 0 or negative still returns one, never "all".
        expect((await store.listAllSessions({ cursor: null, limit: 0 })).sessions).toHaveLength(1);
      });

      it('updateSession patches sdkSessionId and turns; an absent session stays absent', async () => {
        const store = await newStore();
        await store.createSession(record('s1', 'alice'));
        await store.updateSession('s1', { sdkSessionId: 'sdk-1' });
        await store.updateSession('s1', { turns: 3 });
        expect(await store.getSession('s1')).toEqual({ ...record('s1', 'alice'), sdkSessionId: 'sdk-1', turns: 3 });
        await store.updateSession('ghost', { turns: 1 });
        expect(await store.hasSession('ghost')).toBe(false);
      });

      it('touch stamps activity (never backwards); an absent session stays absent', async () => {
        const store = await newStore();
        await store.createSession(record('s1', 'alice'));
        await store.touch('s1', T0 + 700);
        await store.touch('s1', T0 + 100);
        expect((await store.getSession('s1'))!.lastActivityAt).toBe(T0 + 700);
        await store.touch('ghost', T0);
        expect(await store.hasSession('ghost')).toBe(false);
      });

      it('deleteSession removes record, indexes, lock, transcript and replay buffer; usage is kept', async () => {
        const store = await newStore();
        await store.createSession(record('s1', 'alice'));
        const token = (await store.acquireLock('s1', 60_000))!;
        expect(await store.setSandbox('s1', sandbox('sb-1'), token)).toBe(true);
        await store.appendTranscript('s1', [entry('u1')]);
        await store.appendReplay('s1', { id: '1', event: 'message', data: '{}' });
        await store.addUsage('alice', 's1', usage(5));
        const removed = await store.deleteSession('s1');
        expect(removed).toEqual({ ...record('s1', 'alice'), sandbox: sandbox('sb-1') });
        expect(await store.getSession('s1')).toBeNull();
        expect(await store.hasSession('s1')).toBe(false);
        expect(await store.listSessions('alice')).toEqual([]);
        expect(await store.idleSessions(T0 + 1e9, 10)).toEqual([]);
        expect(await store.loadTranscript('s1')).toEqual([]);
        expect(await store.replaySince('s1', '1')).toEqual({ kind: 'unknown' });
        expect(await store.acquireLock('s1', 60_000)).toEqual(expect.any(String));
        expect(await store.checkAndTouch('s1', 'alice', T0)).toEqual({ kind: 'absent' });
        expect((await store.getUsage('alice')).tenant.inputTokens).toBe(5);
        expect(await store.deleteSession('s1')).toBeNull();
        // A deleted id is free again, for any tenant, with an empty transcript.
        expect((await store.createSession(record('s1', 'bob'))).kind).toBe('created');
        expect(await store.appendTranscript('s1', [entry('u1')])).toBe(1);
      });
    });

    describe('activity index', () => {
      it('idleSessions: sessions holding a sandbox, idle at or before the cutoff, oldest first, at most limit', async () => {
        const store = await newStore();
        for (const [id, at] of [['s3', 30], ['s1', 10], ['s4', 40], ['s2', 20], ['s5', 50]] as const) {
          await store.createSession(record(id, 'alice', { lastActivityAt: T0 + at }));
          await bind(store, id, `sb-${id}`);
        }
        await store.createSession(record('unbound', 'alice', { lastActivityAt: T0 }));
        expect(await store.idleSessions(T0 + 40, 100)).toEqual(['s1', 's2', 's3', 's4']);
        expect(await store.idleSessions(T0 + 40, 2)).toEqual(['s1', 's2']);
        expect(await store.idleSessions(T0 + 9, 100)).toEqual([]);
        expect(await store.idleSessions(T0 + 100, 0)).toEqual([]);
        await store.touch('s1', T0 + 45);
        await store.checkAndTouch('s2', 'alice', T0 + 46);
        expect(await store.idleSessions(T0 + 40, 100)).toEqual(['s3', 's4']);
        expect(await store.idleSessions(T0 + 100, 100)).toEqual(['s3', 's4', 's1', 's2', 's5']);
      });

      it('clearing a sandbox leaves the index; binding one again re-enters it', async () => {
        const store = await newStore();
        await store.createSession(record('s1', 'alice'));
        expect(await store.idleSessions(T0 + 1, 10)).toEqual([]);
        await bind(store, 's1', 'sb-1');
        expect(await store.idleSessions(T0 + 1, 10)).toEqual(['s1']);
        expect(await store.clearSandbox('s1', 'sb-1')).toBe(true);
        expect(await store.idleSessions(T0 + 1, 10)).toEqual([]);
        await store.touch('s1', T0 + 5);
        expect(await store.idleSessions(T0 + 100, 10)).toEqual([]);
        await bind(store, 's1', 'sb-2');
        expect(await store.idleSessions(T0 + 4, 10)).toEqual([]);
        expect(await store.idleSessions(T0 + 5, 10)).toEqual(['s1']);
        const token = (await store.acquireLock('s1', 60_000))!;
        expect(await store.setSandbox('s1', null, token)).toBe(true);
        expect(await store.idleSessions(T0 + 100, 10)).toEqual([]);
      });

      it('a session created with a sandbox is indexed from the start', async () => {
        const store = await newStore();
        await store.createSession({ ...record('s1', 'alice'), sandbox: sandbox('sb-1') });
        expect(await store.idleSessions(T0, 10)).toEqual(['s1']);
      });
    });

    describe('provisioning lock', () => {
      it('only one holder; only the holder releases', async () => {
        const store = await newStore();
        const token = await store.acquireLock('s1', 60_000);
        expect(token).toEqual(expect.any(String));
        expect(await store.acquireLock('s1', 60_000)).toBeNull();
        expect(await store.releaseLock('s1', 'not-the-token')).toBe(false);
        expect(await store.acquireLock('s1', 60_000)).toBeNull();
        expect(await store.releaseLock('s1', token!)).toBe(true);
        expect(await store.releaseLock('s1', token!)).toBe(false);
        const next = await store.acquireLock('s1', 60_000);
        expect(next).toEqual(expect.any(String));
        expect(next).not.toBe(token);
        expect(await store.acquireLock('s2', 60_000)).toEqual(expect.any(String));
      });

      it('20 concurrent acquireLock: exactly one token', async () => {
        const store = await newStore();
        const tokens = await Promise.all(Array.from({ length: 20 }, () => store.acquireLock('s1', 60_000)));
        expect(tokens.filter((t) => t !== null)).toHaveLength(1);
      });

      it('a slow holder whose lock expired and was retaken can neither setSandbox nor release', async () => {
        const store = await newStore();
        await store.createSession(record('s1', 'alice'));
        const slow = (await store.acquireLock('s1', 100))!;
        await advance(400);
        const fresh = await store.acquireLock('s1', 60_000);
        expect(fresh).toEqual(expect.any(String));
        expect(await store.setSandbox('s1', sandbox('sb-slow'), slow)).toBe(false);
        expect(await store.releaseLock('s1', slow)).toBe(false);
        expect(await store.setSandbox('s1', sandbox('sb-fresh'), fresh!)).toBe(true);
        expect((await store.getSession('s1'))!.sandbox).toEqual(sandbox('sb-fresh'));
        expect(await store.acquireLock('s1', 60_000)).toBeNull();
      });

      it('an expired lock that nobody retook no longer authorises setSandbox', async () => {
        const store = await newStore();
        await store.createSession(record('s1', 'alice'));
        const token = (await store.acquireLock('s1', 100))!;
        await advance(400);
        expect(await store.setSandbox('s1', sandbox('sb-1'), token)).toBe(false);
        expect((await store.getSession('s1'))!.sandbox).toBeNull();
      });

      it('setSandbox binds and unbinds under the lock, and never creates a record', async () => {
        const store = await newStore();
        const ghost = (await store.acquireLock('ghost', 60_000))!;
        expect(await store.setSandbox('ghost', sandbox('sb-0'), ghost)).toBe(false);
        expect(await store.hasSession('ghost')).toBe(false);
        await store.createSession(record('s1', 'alice'));
        const token = (await store.acquireLock('s1', 60_000))!;
        expect(await store.setSandbox('s1', sandbox('sb-1'), 'wrong')).toBe(false);
        expect(await store.setSandbox('s1', sandbox('sb-1'), token)).toBe(true);
        expect((await store.getSession('s1'))!.sandbox).toEqual(sandbox('sb-1'));
        expect(await store.setSandbox('s1', null, token)).toBe(true);
        expect((await store.getSession('s1'))!.sandbox).toBeNull();
      });

      it('clearSandbox is compare-and-clear: a stale sandbox id leaves the current binding alone', async () => {
        const store = await newStore();
        await store.createSession(record('s1', 'alice'));
        expect(await store.clearSandbox('s1', 'sb-1')).toBe(false);
        await bind(store, 's1', 'sb-2');
        expect(await store.clearSandbox('s1', 'sb-1')).toBe(false);
        expect((await store.getSession('s1'))!.sandbox).toEqual(sandbox('sb-2'));
        expect(await store.clearSandbox('s1', 'sb-2')).toBe(true);
        expect((await store.getSession('s1'))!.sandbox).toBeNull();
        expect(await store.clearSandbox('s1', 'sb-2')).toBe(false);
        expect(await store.clearSandbox('ghost', 'sb-2')).toBe(false);
      });
    });

    describe('transcript', () => {
      it('idempotent on uuid, entries without uuid always appended, order preserved', async () => {
        const store = await newStore();
        expect(await store.loadTranscript('s1')).toEqual([]);
        expect(await store.appendTranscript('s1', [entry('u1'), entry(undefined, 'a'), entry('u2')])).toBe(3);
        expect(await store.appendTranscript('s1', [entry('u2'), entry('u3'), entry(undefined, 'a'), entry('u3'), entry('u1')])).toBe(2);
        expect(await store.appendTranscript('s1', [])).toBe(0);
        const loaded = await store.loadTranscript('s1');
        expect(loaded).toEqual([entry('u1'), entry(undefined, 'a'), entry('u2'), entry('u3'), entry(undefined, 'a')]);
        expect(await store.loadTranscript('s2')).toEqual([]);
        expect(await store.appendTranscript('s2', [entry('u1', 'x', 'sub/agent-1')])).toBe(1);
        expect(await store.loadTranscript('s2')).toEqual([entry('u1', 'x', 'sub/agent-1')]);
      });

      it('concurrent appends of the same uuids store each uuid once', async () => {
        const store = await newStore();
        const batches = Array.from({ length: 10 }, () => [entry('u1'), entry('u2'), entry('u3')]);
        const counts = await Promise.all(batches.map((b) => store.appendTranscript('s1', b)));
        expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
        expect((await store.loadTranscript('s1')).map((e) => e.entry.uuid)).toEqual(['u1', 'u2', 'u3']);
      });
    });

    describe('replay buffer', () => {
      it('replaySince returns the frames after the id, in order; an unknown id or session is "unknown"', async () => {
        const store = await newStore();
        for (let i = 1; i <= 4; i++) await store.appendReplay('s1', frame(i));
        expect(await store.replaySince('s1', '2')).toEqual({ kind: 'frames', frames: [frame(3), frame(4)] });
        expect(await store.replaySince('s1', '4')).toEqual({ kind: 'frames', frames: [] });
        expect(await store.replaySince('s1', '9')).toEqual({ kind: 'unknown' });
        expect(await store.replaySince('s1', '')).toEqual({ kind: 'unknown' });
        expect(await store.replaySince('s2', '1')).toEqual({ kind: 'unknown' });
        // Ids that are prefixes of one another are told apart; data survives byte for byte.
        await store.appendReplay('s3', { id: '1', data: 'one' });
        await store.appendReplay('s3', { id: '10', event: 'done', data: 'ünï\ncode' });
        expect(await store.replaySince('s3', '1')).toEqual({ kind: 'frames', frames: [{ id: '10', event: 'done', data: 'ünï\ncode' }] });
      });

      it('keeps only the newest maxFrames; an evicted id is "unknown"', async () => {
        const store = await newStore({ replayMaxFrames: 3 });
        for (let i = 1; i <= 5; i++) await store.appendReplay('s1', frame(i));
        expect(await store.replaySince('s1', '2')).toEqual({ kind: 'unknown' });
        expect(await store.replaySince('s1', '3')).toEqual({ kind: 'frames', frames: [frame(4), frame(5)] });
      });

      it('resetReplay drops the buffer', async () => {
        const store = await newStore();
        await store.appendReplay('s1', frame(1));
        await store.resetReplay('s1');
        expect(await store.replaySince('s1', '1')).toEqual({ kind: 'unknown' });
        await store.appendReplay('s1', frame(2));
        expect(await store.replaySince('s1', '2')).toEqual({ kind: 'frames', frames: [] });
      });

      it('expires replayTtlS after its last frame (each append re-arms the TTL)', async () => {
        // TTL 1 s; 0.6 s between appends and before the first check: past the first append's TTL,
        // within the second's, with 0.4 s to spare for a loaded machine.
        const store = await newStore({ replayTtlS: 1 });
        await store.appendReplay('s1', frame(1));
        await advance(600);
        await store.appendReplay('s1', frame(2));
        await advance(600);
        expect(await store.replaySince('s1', '1')).toEqual({ kind: 'frames', frames: [frame(2)] });
        await advance(1500);
        expect(await store.replaySince('s1', '1')).toEqual({ kind: 'unknown' });
      }, 15_000);
    });

    describe('standby pool', () => {
      it('FIFO: add, list, pop oldest first, remove by id; duplicates ignored; pools independent', async () => {
        const store = await newStore();
        expect(await store.popStandby('p')).toBeNull();
        for (const id of ['a', 'b', 'c']) await store.addStandby('p', { sandboxId: id, data: `data-${id}` });
        await store.addStandby('p', { sandboxId: 'a', data: 'again' });
        await store.addStandby('q', { sandboxId: 'z', data: 'data-z' });
        expect(await store.listStandbys('p')).toEqual(['a', 'b', 'c'].map((id) => ({ sandboxId: id, data: `data-${id}` })));
        expect(await store.popStandby('p')).toEqual({ sandboxId: 'a', data: 'data-a' });
        expect(await store.removeStandby('p', 'c')).toBe(true);
        expect(await store.removeStandby('p', 'c')).toBe(false);
        expect(await store.removeStandby('p', 'z')).toBe(false);
        expect(await store.listStandbys('p')).toEqual([{ sandboxId: 'b', data: 'data-b' }]);
        expect(await store.listStandbys('q')).toEqual([{ sandboxId: 'z', data: 'data-z' }]);
        expect(await store.listStandbys('empty')).toEqual([]);
      });

      it('50 concurrent pops of 10 standbys: 10 distinct standbys, 40 nulls', async () => {
        const store = await newStore();
        for (let i = 0; i < 10; i++) await store.addStandby('p', { sandboxId: `sb-${i}`, data: `d${i}` });
        const popped = await Promise.all(Array.from({ length: 50 }, () => store.popStandby('p')));
        const got = popped.filter((s) => s !== null);
        expect(got).toHaveLength(10);
        expect(new Set(got.map((s) => s!.sandboxId)).size).toBe(10);
        expect(got.every((s) => s!.data === `d${s!.sandboxId.slice(3)}`)).toBe(true);
        expect(await store.listStandbys('p')).toEqual([]);
      });

      it('concurrent pop and remove: each standby goes to exactly one of them', async () => {
        const store = await newStore();
        for (let i = 0; i < 10; i++) await store.addStandby('p', { sandboxId: `sb-${i}`, data: '' });
        const ops = Array.from({ length: 10 }, (_, i) => [store.popStandby('p'), store.removeStandby('p', `sb-${i}`)] as const);
        const popped = (await Promise.all(ops.map((o) => o[0]))).filter((s) => s !== null).map((s) => s!.sandboxId);
        const removed = (await Promise.all(ops.map((o) => o[1]))).flatMap((ok, i) => (ok ? [`sb-${i}`] : []));
        expect([...popped, ...removed].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `sb-${i}`).sort());
      });
    });

    describe('usage', () => {
      it('counts per tenant and per session; tenants are separate', async () => {
        const store = await newStore();
        expect(await store.getUsage('alice')).toEqual({ tenant: usage(0), sessions: {} });
        await store.addUsage('alice', 's1', usage(10));
        await store.addUsage('alice', 's1', usage(5));
        await store.addUsage('alice', 's2', { inputTokens: 1, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 7 });
        await store.addUsage('bob', 's3', usage(2));
        const alice = await store.getUsage('alice');
        expect(alice.tenant).toEqual({ inputTokens: 16, outputTokens: 30, cacheCreationInputTokens: 45, cacheReadInputTokens: 67 });
        expect(alice.sessions.s1).toEqual(usage(15));
        expect(alice.sessions.s2).toEqual({ inputTokens: 1, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 7 });
        expect(alice.sessions.s3).toBeUndefined();
        expect(await store.getUsage('bob')).toEqual({ tenant: usage(2), sessions: { s3: usage(2) } });
      });

      it('concurrent addUsage loses no increment', async () => {
        const store = await newStore();
        await Promise.all(Array.from({ length: 40 }, () => store.addUsage('alice', 's1', usage(1))));
        expect((await store.getUsage('alice')).tenant).toEqual(usage(40));
      });
    });

    describe('quotas (rate bucket, concurrency leases, bound-session count)', () => {
      it('takeRateToken: a full bucket of `capacity`, then refusals with a retry hint, refilled over time; tenants separate', async () => {
        const store = await newStore();
        // 20 tokens/s: one token per 50 ms, so the few ms between calls refill far below one token.
        expect(await store.takeRateToken('alice', 2, 20)).toEqual({ ok: true, remaining: 1 });
        expect(await store.takeRateToken('alice', 2, 20)).toEqual({ ok: true, remaining: 0 });
        const refused = await store.takeRateToken('alice', 2, 20);
        expect(refused.ok).toBe(false);
        if (!refused.ok) {
          expect(refused.retryAfterMs).toBeGreaterThanOrEqual(1);
          expect(refused.retryAfterMs).toBeLessThanOrEqual(50);
        }
        expect((await store.takeRateToken('bob', 2, 20)).ok).toBe(true);
        await advance(150);
        expect((await store.takeRateToken('alice', 2, 20)).ok).toBe(true);
      });

      it('takeRateToken: of 30 concurrent takes on a bucket of 10 with a slow refill, exactly 10 succeed', async () => {
        const store = await newStore();
        const takes = await Promise.all(Array.from({ length: 30 }, () => store.takeRateToken('alice', 10, 0.01)));
        expect(takes.filter((t) => t.ok)).toHaveLength(10);
      });

      it('acquireLease: admits up to limit, renews a present holder even when full, release frees a slot; kinds and tenants separate', async () => {
        const store = await newStore();
        expect(await store.acquireLease('alice', 'turns', 'h1', 2, 60_000)).toEqual({ ok: true, held: 1 });
        expect(await store.acquireLease('alice', 'turns', 'h2', 2, 60_000)).toEqual({ ok: true, held: 2 });
        expect(await store.acquireLease('alice', 'turns', 'h3', 2, 60_000)).toEqual({ ok: false, held: 2 });
        expect(await store.acquireLease('alice', 'turns', 'h1', 2, 60_000)).toEqual({ ok: true, held: 2 });
        expect(await store.acquireLease('alice', 'sessions', 'h3', 2, 60_000)).toEqual({ ok: true, held: 1 });
        expect(await store.acquireLease('bob', 'turns', 'h3', 2, 60_000)).toEqual({ ok: true, held: 1 });
        await store.releaseLease('alice', 'turns', 'h2');
        await store.releaseLease('alice', 'turns', 'absent');
        expect(await store.acquireLease('alice', 'turns', 'h3', 2, 60_000)).toEqual({ ok: true, held: 2 });
      });

      it('acquireLease: 20 concurrent holders on a limit of 5 admit exactly 5', async () => {
        const store = await newStore();
        const got = await Promise.all(Array.from({ length: 20 }, (_, i) => store.acquireLease('alice', 'turns', `h${i}`, 5, 60_000)));
        expect(got.filter((g) => g.ok)).toHaveLength(5);
        expect(await store.acquireLease('alice', 'turns', 'late', 5, 60_000)).toEqual({ ok: false, held: 5 });
      });

      it('acquireLease: a lease not renewed expires (a crashed holder leaks no slot); a renewed one stays', async () => {
        const store = await newStore();
        expect((await store.acquireLease('alice', 'turns', 'crashed', 2, 200)).ok).toBe(true);
        expect((await store.acquireLease('alice', 'turns', 'alive', 2, 200)).ok).toBe(true);
        await advance(120);
        expect((await store.acquireLease('alice', 'turns', 'alive', 2, 200)).ok).toBe(true);
        await advance(150);
        expect(await store.acquireLease('alice', 'turns', 'new', 2, 200)).toEqual({ ok: true, held: 2 });
        expect(await store.acquireLease('alice', 'turns', 'crashed', 2, 200)).toEqual({ ok: false, held: 2 });
      }, 15_000);

      it('countBoundSessions counts sessions with a sandbox bound, whatever their tenant', async () => {
        const store = await newStore();
        expect(await store.countBoundSessions()).toBe(0);
        for (const [id, tenant] of [['s1', 'alice'], ['s2', 'bob'], ['s3', 'alice']] as const) {
          await store.createSession(record(id, tenant));
          await bind(store, id, `sb-${id}`);
        }
        await store.createSession(record('unbound', 'alice'));
        expect(await store.countBoundSessions()).toBe(3);
        await store.clearSandbox('s2', 'sb-s2');
        await store.deleteSession('s3');
        expect(await store.countBoundSessions()).toBe(1);
      });
    });

    it('ping resolves while the store is reachable', async () => {
      const store = await newStore();
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

function record(id: string, tenant: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return { id, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt: T0, lastActivityAt: T0, turns: 0, ...over };
}

function sandbox(sandboxId: string): SandboxBinding {
  return { sandboxId, url: `http://127.0.0.2:8000/${sandboxId}`, authToken: `token-${sandboxId}`, profile: 'default', claimedAt: T0 + 1 };
}

async function bind(store: RouteStore, sessionId: string, sandboxId: string): Promise<void> {
  const token = await store.acquireLock(sessionId, 60_000);
  expect(token).not.toBeNull();
  expect(await store.setSandbox(sessionId, sandbox(sandboxId), token!)).toBe(true);
  expect(await store.releaseLock(sessionId, token!)).toBe(true);
}

function entry(uuid: string | undefined, text = uuid ?? '', subpath = ''): StoredTranscriptEntry {
  const e: StoredTranscriptEntry['entry'] = { type: 'user', message: { content: text, nested: [1, { a: null }] } };
  if (uuid !== undefined) e.uuid = uuid;
  return { sdkSessionId: 'sdk-1', subpath, entry: e };
}

function frame(i: number): { id: string; event: string; data: string } {
  return { id: String(i), event: 'message', data: JSON.stringify({ type: 'assistant', n: i }) };
}

function usage(n: number): { inputTokens: number; outputTokens: number; cacheCreationInputTokens: number; cacheReadInputTokens: number } {
  return { inputTokens: n, outputTokens: n * 2, cacheCreationInputTokens: n * 3, cacheReadInputTokens: n * 4 };
}
