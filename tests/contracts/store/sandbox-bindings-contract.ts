// The SandboxBindings contract (gateway/src/store/sandbox-bindings.ts): the provisioning lock and
// its races (one holder; a slow holder whose lock expired can neither bind nor release), bind and
// compare-and-clear, the activity index the reaper walks, and the bound-session count.
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { contractKit, T0, record, sandbox, bind, type StoreContractOptions } from './store-contract-kit.js';

export function runSandboxBindingsContract(options: StoreContractOptions): void {
  describe(`SandboxBindings contract: ${options.name}`, () => {
    const { newStore, it, advance } = contractKit(options);

    it('idleSessions: sessions holding a sandbox, idle at or before the cutoff, oldest first, at most limit', async () => {
      const store = await newStore();
      for (const [id, at] of [['s3', 30], ['s1', 10], ['s4', 40], ['s2', 20], ['s5', 50]] as const) {
        await store.sessions.createSession(record(id, 'alice', { lastActivityAt: T0 + at }));
        await bind(store.bindings, id, `sb-${id}`);
      }
      await store.sessions.createSession(record('unbound', 'alice', { lastActivityAt: T0 }));
      expect(await store.bindings.idleSessions(T0 + 40, 100)).toEqual(['s1', 's2', 's3', 's4']);
      expect(await store.bindings.idleSessions(T0 + 40, 2)).toEqual(['s1', 's2']);
      expect(await store.bindings.idleSessions(T0 + 9, 100)).toEqual([]);
      expect(await store.bindings.idleSessions(T0 + 100, 0)).toEqual([]);
      await store.sessions.touch('s1', T0 + 45);
      await store.sessions.checkAndTouch('s2', 'alice', T0 + 46);
      expect(await store.bindings.idleSessions(T0 + 40, 100)).toEqual(['s3', 's4']);
      expect(await store.bindings.idleSessions(T0 + 100, 100)).toEqual(['s3', 's4', 's1', 's2', 's5']);
    });

    it('clearing a sandbox leaves the index; binding one again re-enters it', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      expect(await store.bindings.idleSessions(T0 + 1, 10)).toEqual([]);
      await bind(store.bindings, 's1', 'sb-1');
      expect(await store.bindings.idleSessions(T0 + 1, 10)).toEqual(['s1']);
      expect(await store.bindings.clearSandbox('s1', 'sb-1')).toBe(true);
      expect(await store.bindings.idleSessions(T0 + 1, 10)).toEqual([]);
      await store.sessions.touch('s1', T0 + 5);
      expect(await store.bindings.idleSessions(T0 + 100, 10)).toEqual([]);
      await bind(store.bindings, 's1', 'sb-2');
      expect(await store.bindings.idleSessions(T0 + 4, 10)).toEqual([]);
      expect(await store.bindings.idleSessions(T0 + 5, 10)).toEqual(['s1']);
      const token = (await store.bindings.acquireLock('s1', 60_000))!;
      expect(await store.bindings.setSandbox('s1', null, token)).toBe(true);
      expect(await store.bindings.idleSessions(T0 + 100, 10)).toEqual([]);
    });

    it('a session created with a sandbox is indexed from the start', async () => {
      const store = await newStore();
      await store.sessions.createSession({ ...record('s1', 'alice'), sandbox: sandbox('sb-1') });
      expect(await store.bindings.idleSessions(T0, 10)).toEqual(['s1']);
    });

    it('only one holder; only the holder releases', async () => {
      const store = await newStore();
      const token = await store.bindings.acquireLock('s1', 60_000);
      expect(token).toEqual(expect.any(String));
      expect(await store.bindings.acquireLock('s1', 60_000)).toBeNull();
      expect(await store.bindings.releaseLock('s1', 'not-the-token')).toBe(false);
      expect(await store.bindings.acquireLock('s1', 60_000)).toBeNull();
      expect(await store.bindings.releaseLock('s1', token!)).toBe(true);
      expect(await store.bindings.releaseLock('s1', token!)).toBe(false);
      const next = await store.bindings.acquireLock('s1', 60_000);
      expect(next).toEqual(expect.any(String));
      expect(next).not.toBe(token);
      expect(await store.bindings.acquireLock('s2', 60_000)).toEqual(expect.any(String));
    });

    it('20 concurrent acquireLock: exactly one token', async () => {
      const store = await newStore();
      const tokens = await Promise.all(Array.from({ length: 20 }, () => store.bindings.acquireLock('s1', 60_000)));
      expect(tokens.filter((t) => t !== null)).toHaveLength(1);
    });

    it('a slow holder whose lock expired and was retaken can neither setSandbox nor release', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      const slow = (await store.bindings.acquireLock('s1', 100))!;
      await advance(400);
      const fresh = await store.bindings.acquireLock('s1', 60_000);
      expect(fresh).toEqual(expect.any(String));
      expect(await store.bindings.setSandbox('s1', sandbox('sb-slow'), slow)).toBe(false);
      expect(await store.bindings.releaseLock('s1', slow)).toBe(false);
      expect(await store.bindings.setSandbox('s1', sandbox('sb-fresh'), fresh!)).toBe(true);
      expect((await store.sessions.getSession('s1'))!.sandbox).toEqual(sandbox('sb-fresh'));
      expect(await store.bindings.acquireLock('s1', 60_000)).toBeNull();
    });

    it('an expired lock that nobody retook no longer authorises setSandbox', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      const token = (await store.bindings.acquireLock('s1', 100))!;
      await advance(400);
      expect(await store.bindings.setSandbox('s1', sandbox('sb-1'), token)).toBe(false);
      expect((await store.sessions.getSession('s1'))!.sandbox).toBeNull();
    });

    it('setSandbox binds and unbinds under the lock, and never creates a record', async () => {
      const store = await newStore();
      const ghost = (await store.bindings.acquireLock('ghost', 60_000))!;
      expect(await store.bindings.setSandbox('ghost', sandbox('sb-0'), ghost)).toBe(false);
      expect(await store.sessions.hasSession('ghost')).toBe(false);
      await store.sessions.createSession(record('s1', 'alice'));
      const token = (await store.bindings.acquireLock('s1', 60_000))!;
      expect(await store.bindings.setSandbox('s1', sandbox('sb-1'), 'wrong')).toBe(false);
      expect(await store.bindings.setSandbox('s1', sandbox('sb-1'), token)).toBe(true);
      expect((await store.sessions.getSession('s1'))!.sandbox).toEqual(sandbox('sb-1'));
      expect(await store.bindings.setSandbox('s1', null, token)).toBe(true);
      expect((await store.sessions.getSession('s1'))!.sandbox).toBeNull();
    });

    it('clearSandbox is compare-and-clear: a stale sandbox id leaves the current binding alone', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      expect(await store.bindings.clearSandbox('s1', 'sb-1')).toBe(false);
      await bind(store.bindings, 's1', 'sb-2');
      expect(await store.bindings.clearSandbox('s1', 'sb-1')).toBe(false);
      expect((await store.sessions.getSession('s1'))!.sandbox).toEqual(sandbox('sb-2'));
      expect(await store.bindings.clearSandbox('s1', 'sb-2')).toBe(true);
      expect((await store.sessions.getSession('s1'))!.sandbox).toBeNull();
      expect(await store.bindings.clearSandbox('s1', 'sb-2')).toBe(false);
      expect(await store.bindings.clearSandbox('ghost', 'sb-2')).toBe(false);
    });

    it('countBoundSessions counts sessions with a sandbox bound, whatever their tenant', async () => {
      const store = await newStore();
      expect(await store.bindings.countBoundSessions()).toBe(0);
      for (const [id, tenant] of [['s1', 'alice'], ['s2', 'bob'], ['s3', 'alice']] as const) {
        await store.sessions.createSession(record(id, tenant));
        await bind(store.bindings, id, `sb-${id}`);
      }
      await store.sessions.createSession(record('unbound', 'alice'));
      expect(await store.bindings.countBoundSessions()).toBe(3);
      await store.bindings.clearSandbox('s2', 'sb-s2');
      await store.sessions.deleteSession('s3');
      expect(await store.bindings.countBoundSessions()).toBe(1);
    });
  });
}
