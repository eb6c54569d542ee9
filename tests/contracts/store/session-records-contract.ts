// The SessionRecords contract (gateway/src/store/session-records.ts): set-if-absent create and
// its race, check+stamp, patch, touch, delete of everything stored under a session, and the
// expiry of records that never got a sandbox.
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { bind, contractKit, T0, record, sandbox, entry, usage, type StoreContractOptions } from './store-contract-kit.js';

export function runSessionRecordsContract(options: StoreContractOptions): void {
  describe(`SessionRecords contract: ${options.name}`, () => {
    const { newStore, advance, it } = contractKit(options);

    it('createSession is set-if-absent: created, then owned for the owner and forbidden for others', async () => {
      const store = await newStore();
      const rec = record('s1', 'alice');
      expect(await store.sessions.createSession(rec)).toEqual({ kind: 'created', session: rec });
      expect(await store.sessions.getSession('s1')).toEqual(rec);
      expect(await store.sessions.hasSession('s1')).toBe(true);
      expect(await store.sessions.createSession({ ...rec, profile: 'other' })).toEqual({ kind: 'owned', session: rec });
      expect(await store.sessions.createSession(record('s1', 'bob'))).toEqual({ kind: 'forbidden' });
      expect(await store.sessions.getSession('s1')).toEqual(rec);
      expect(await store.sessions.getSession('nope')).toBeNull();
      expect(await store.sessions.hasSession('nope')).toBe(false);
    });

    it('50 concurrent createSession on one id by two tenants: exactly one created, the rest consistent', async () => {
      const store = await newStore();
      const tenants = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 'alice' : 'bob'));
      const results = await Promise.all(tenants.map((t, i) => store.sessions.createSession(record('race', t, { createdAt: T0 + i }))));
      const created = results.filter((r) => r.kind === 'created');
      expect(created).toHaveLength(1);
      const winner = created[0]!.kind === 'created' ? created[0]!.session : undefined;
      results.forEach((r, i) => {
        if (r.kind === 'created') return;
        if (tenants[i] === winner!.tenant) expect(r).toEqual({ kind: 'owned', session: winner });
        else expect(r).toEqual({ kind: 'forbidden' });
      });
      expect(await store.sessions.getSession('race')).toEqual(winner);
      expect((await store.listing.listSessions(winner!.tenant)).sessions.map((s) => s.id)).toEqual(['race']);
      expect((await store.listing.listSessions(winner!.tenant === 'alice' ? 'bob' : 'alice')).sessions).toEqual([]);
    });

    it('checkAndTouch: absent, forbidden without stamping, owned with the stamp applied and never moved back', async () => {
      const store = await newStore();
      expect(await store.sessions.checkAndTouch('s1', 'alice', T0)).toEqual({ kind: 'absent' });
      await store.sessions.createSession(record('s1', 'alice'));
      expect(await store.sessions.checkAndTouch('s1', 'bob', T0 + 500)).toEqual({ kind: 'forbidden' });
      expect((await store.sessions.getSession('s1'))!.lastActivityAt).toBe(T0);
      const owned = await store.sessions.checkAndTouch('s1', 'alice', T0 + 1000);
      expect(owned).toEqual({ kind: 'owned', session: { ...record('s1', 'alice'), lastActivityAt: T0 + 1000 } });
      const older = await store.sessions.checkAndTouch('s1', 'alice', T0 + 10);
      expect(older.kind === 'owned' && older.session.lastActivityAt).toBe(T0 + 1000);
    });

    it('updateSession patches sdkSessionId and turns; an absent session stays absent', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      await store.sessions.updateSession('s1', { sdkSessionId: 'sdk-1' });
      await store.sessions.updateSession('s1', { turns: 3 });
      expect(await store.sessions.getSession('s1')).toEqual({ ...record('s1', 'alice'), sdkSessionId: 'sdk-1', turns: 3 });
      await store.sessions.updateSession('ghost', { turns: 1 });
      expect(await store.sessions.hasSession('ghost')).toBe(false);
    });

    it('touch stamps activity (never backwards); an absent session stays absent', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      await store.sessions.touch('s1', T0 + 700);
      await store.sessions.touch('s1', T0 + 100);
      expect((await store.sessions.getSession('s1'))!.lastActivityAt).toBe(T0 + 700);
      await store.sessions.touch('ghost', T0);
      expect(await store.sessions.hasSession('ghost')).toBe(false);
    });

    it('deleteSession removes record, indexes, lock and transcript; usage is kept', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      const token = (await store.bindings.acquireLock('s1', 60_000))!;
      expect(await store.bindings.setSandbox('s1', sandbox('sb-1'), token)).toBe(true);
      await store.transcripts.appendTranscript('s1', [entry('u1')]);
      await store.usage.addUsage('alice', 's1', usage(5));
      const removed = await store.sessions.deleteSession('s1');
      expect(removed).toEqual({ ...record('s1', 'alice'), sandbox: sandbox('sb-1') });
      expect(await store.sessions.getSession('s1')).toBeNull();
      expect(await store.sessions.hasSession('s1')).toBe(false);
      expect((await store.listing.listSessions('alice')).sessions).toEqual([]);
      expect(await store.bindings.idleSessions(T0 + 1e9, 10)).toEqual([]);
      expect(await store.transcripts.loadTranscript('s1')).toEqual([]);
      expect(await store.bindings.acquireLock('s1', 60_000)).toEqual(expect.any(String));
      expect(await store.sessions.checkAndTouch('s1', 'alice', T0)).toEqual({ kind: 'absent' });
      expect((await store.usage.getUsage('alice')).tenant.inputTokens).toBe(5);
      expect(await store.sessions.deleteSession('s1')).toBeNull();
      // A deleted id is free again, for any tenant, with an empty transcript.
      expect((await store.sessions.createSession(record('s1', 'bob'))).kind).toBe('created');
      expect(await store.transcripts.appendTranscript('s1', [entry('u1')])).toMatchObject({ kind: 'appended', appended: 1 });
    });

    it('a record that never got a sandbox expires unboundTtlS after creation; a bound one (even unbound since) stays', async () => {
      // TTL 1.5 s, checked after 2 s: past it whatever the delays (they only add); each binding
      // follows its creation at once, with the 1.5 s to spare on a loaded machine.
      const store = await newStore({ unboundTtlS: 1.5 });
      await store.sessions.createSession(record('never', 'alice'));
      await store.sessions.createSession(record('bound', 'alice'));
      await bind(store.bindings, 'bound', 'sb-1');
      await store.sessions.createSession(record('released', 'alice'));
      await bind(store.bindings, 'released', 'sb-2');
      expect(await store.bindings.clearSandbox('released', 'sb-2')).toBe(true);
      await store.sessions.createSession({ ...record('born-bound', 'bob'), sandbox: sandbox('sb-3') });
      expect(await store.sessions.hasSession('never')).toBe(true);
      await advance(2000);
      expect(await store.sessions.getSession('never')).toBeNull();
      expect(await store.sessions.hasSession('never')).toBe(false);
      expect(await store.sessions.checkAndTouch('never', 'alice', T0 + 2000)).toEqual({ kind: 'absent' });
      expect((await store.listing.listSessions('alice')).sessions.map((s) => s.id).sort()).toEqual(['bound', 'released']);
      expect((await store.listing.listAllSessions({ cursor: null, limit: 10 })).sessions.map((s) => s.id)).toEqual(['born-bound', 'bound', 'released']);
      expect((await store.sessions.getSession('released'))!.sandbox).toBeNull();
      expect((await store.sessions.getSession('born-bound'))!.sandbox).toEqual(sandbox('sb-3'));
      // The expired id is free again, for any tenant.
      expect((await store.sessions.createSession(record('never', 'bob'))).kind).toBe('created');
    }, 15_000);
  });
}
