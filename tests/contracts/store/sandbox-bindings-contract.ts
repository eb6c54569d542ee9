// The SandboxBindings contract (gateway/src/store/sandbox-bindings.ts): the provisioning lock and
// its races (one holder; a slow holder whose lock expired can neither bind nor release), bind and
// compare-and-clear, the activity index the reaper walks, the bound-session count, and the
// egress-key index (a security control: a key hash names a session only while that session's
// bound sandbox carries it, through every unbind, rebind, delete and race).
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { createHash } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { SandboxBinding, SandboxBindings, Store } from '@berth/gateway';
import { contractKit, T0, record, sandbox, bind, type StoreContractOptions } from './store-contract-kit.js';

/** A well-formed egress key hash (what the gateway stores: SHA-256 of the sandbox's key, lowercase hex). */
function keyHash(name: string): string {
  return createHash('sha256').update(`bsk_${name}`).digest('hex');
}

function keyed(sandboxId: string, keySha256: string): SandboxBinding {
  return { ...sandbox(sandboxId), egressKeySha256: keySha256 };
}

/** Binds `binding` the way the gateway does: under the provisioning lock. */
async function bindAs(bindings: SandboxBindings, sessionId: string, binding: SandboxBinding): Promise<void> {
  const token = await bindings.acquireLock(sessionId, 60_000);
  expect(token).not.toBeNull();
  expect(await bindings.setSandbox(sessionId, binding, token!)).toBe(true);
  expect(await bindings.releaseLock(sessionId, token!)).toBe(true);
}

/** Each hash resolves to the one session whose record holds it now, or to null: the index agrees with the records. */
async function expectKeysMatchRecords(store: Store, sessionIds: string[], hashes: string[]): Promise<void> {
  const holders = new Map<string, string>();
  for (const id of sessionIds) {
    const held = (await store.sessions.getSession(id))?.sandbox?.egressKeySha256;
    if (held !== undefined) holders.set(held, id);
  }
  for (const hash of hashes) expect(await store.bindings.sessionForEgressKey(hash), hash).toBe(holders.get(hash) ?? null);
}

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

    it('sessionForEgressKey: a binding without an egress key is never found by one', async () => {
      const store = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      await bind(store.bindings, 's1', 'sb-1');
      expect(await store.bindings.sessionForEgressKey(keyHash('a'))).toBeNull();
      expect(await store.bindings.sessionForEgressKey('')).toBeNull();
    });

    it('sessionForEgressKey names the session whose bound sandbox carries the hash, and nothing else', async () => {
      const store = await newStore();
      const [h1, h2, h3] = [keyHash('1'), keyHash('2'), keyHash('3')];
      await store.sessions.createSession(record('s1', 'alice'));
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
      await bindAs(store.bindings, 's1', keyed('sb-1', h1));
      expect(await store.bindings.sessionForEgressKey(h1)).toBe('s1');
      expect((await store.sessions.getSession('s1'))!.sandbox).toEqual(keyed('sb-1', h1));
      expect(await store.bindings.sessionForEgressKey(h2)).toBeNull();
      // Only the one stored form is ever found: no case folding, trimming or prefix match.
      for (const malformed of ['', 'abc', h1.toUpperCase(), `${h1}0`, h1.slice(1), ` ${h1}`, `{${h1.slice(2)}}`]) {
        expect(await store.bindings.sessionForEgressKey(malformed), malformed).toBeNull();
      }
      // A refused bind (wrong token; no record) indexes nothing and leaves the standing key alone.
      const token = (await store.bindings.acquireLock('s1', 60_000))!;
      expect(await store.bindings.setSandbox('s1', keyed('sb-2', h2), 'not-the-token')).toBe(false);
      expect(await store.bindings.sessionForEgressKey(h2)).toBeNull();
      expect(await store.bindings.sessionForEgressKey(h1)).toBe('s1');
      expect(await store.bindings.releaseLock('s1', token)).toBe(true);
      const ghost = (await store.bindings.acquireLock('ghost', 60_000))!;
      expect(await store.bindings.setSandbox('ghost', keyed('sb-3', h3), ghost)).toBe(false);
      expect(await store.bindings.sessionForEgressKey(h3)).toBeNull();
    });

    it('a record created with a keyed binding is found by its key only once setSandbox binds it', async () => {
      const store = await newStore();
      const h1 = keyHash('1');
      await store.sessions.createSession({ ...record('s1', 'alice'), sandbox: keyed('sb-1', h1) });
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
      await bindAs(store.bindings, 's1', keyed('sb-1', h1));
      expect(await store.bindings.sessionForEgressKey(h1)).toBe('s1');
    });

    it('unbinding ends the key: clearSandbox, and setSandbox(null) under the lock', async () => {
      const store = await newStore();
      const [h1, h2] = [keyHash('1'), keyHash('2')];
      await store.sessions.createSession(record('s1', 'alice'));
      await bindAs(store.bindings, 's1', keyed('sb-1', h1));
      expect(await store.bindings.clearSandbox('s1', 'sb-stale')).toBe(false);
      expect(await store.bindings.sessionForEgressKey(h1)).toBe('s1');
      expect(await store.bindings.clearSandbox('s1', 'sb-1')).toBe(true);
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
      await bindAs(store.bindings, 's1', keyed('sb-2', h2));
      expect(await store.bindings.sessionForEgressKey(h2)).toBe('s1');
      const token = (await store.bindings.acquireLock('s1', 60_000))!;
      expect(await store.bindings.setSandbox('s1', null, token)).toBe(true);
      expect(await store.bindings.sessionForEgressKey(h2)).toBeNull();
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
    });

    it('rebinding moves the key: the replaced sandbox\'s hash is refused, the new one found', async () => {
      const store = await newStore();
      const [h1, h2] = [keyHash('1'), keyHash('2')];
      await store.sessions.createSession(record('s1', 'alice'));
      await bindAs(store.bindings, 's1', keyed('sb-1', h1));
      await bindAs(store.bindings, 's1', keyed('sb-2', h2));
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
      expect(await store.bindings.sessionForEgressKey(h2)).toBe('s1');
      // Setting the same binding again keeps its key (replacing a key by itself drops nothing).
      await bindAs(store.bindings, 's1', keyed('sb-2', h2));
      expect(await store.bindings.sessionForEgressKey(h2)).toBe('s1');
      // A keyless sandbox in its place ends the key too.
      await bind(store.bindings, 's1', 'sb-3');
      expect(await store.bindings.sessionForEgressKey(h2)).toBeNull();
    });

    it('two sessions, two keys: each hash names its own session, and one\'s unbind leaves the other', async () => {
      const store = await newStore();
      const [h1, h2] = [keyHash('1'), keyHash('2')];
      await store.sessions.createSession(record('s1', 'alice'));
      await store.sessions.createSession(record('s2', 'bob'));
      await bindAs(store.bindings, 's1', keyed('sb-1', h1));
      await bindAs(store.bindings, 's2', keyed('sb-2', h2));
      expect(await store.bindings.sessionForEgressKey(h1)).toBe('s1');
      expect(await store.bindings.sessionForEgressKey(h2)).toBe('s2');
      expect(await store.bindings.clearSandbox('s1', 'sb-1')).toBe(true);
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
      expect(await store.bindings.sessionForEgressKey(h2)).toBe('s2');
    });

    it('deleting the session ends its key, and a new session under the same id does not inherit it', async () => {
      const store = await newStore();
      const h1 = keyHash('1');
      await store.sessions.createSession(record('s1', 'alice'));
      await bindAs(store.bindings, 's1', keyed('sb-1', h1));
      expect(await store.sessions.deleteSession('s1')).not.toBeNull();
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
      await store.sessions.createSession(record('s1', 'alice'));
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
    });

    it('a hash bound to two sessions (never, with random keys) names at most a session that holds it', async () => {
      const store = await newStore();
      const h1 = keyHash('1');
      for (const id of ['s1', 's2']) {
        await store.sessions.createSession(record(id, 'alice'));
        await bindAs(store.bindings, id, keyed(`sb-${id}`, h1));
      }
      expect(['s1', 's2']).toContain(await store.bindings.sessionForEgressKey(h1));
      expect(await store.bindings.clearSandbox('s2', 'sb-s2')).toBe(true);
      // s1 still holds it: found or not (fail-closed), but never s2.
      expect([null, 's1']).toContain(await store.bindings.sessionForEgressKey(h1));
      expect(await store.bindings.clearSandbox('s1', 'sb-s1')).toBe(true);
      expect(await store.bindings.sessionForEgressKey(h1)).toBeNull();
    });

    it('concurrent binds, clears and lookups: every answer agrees with the records', async () => {
      const store = await newStore();
      for (let round = 0; round < 3; round++) {
        const ids = ['a', 'b', 'c', 'd'].map((s) => `${s}${round}`);
        const [a, b, c, d] = ids as [string, string, string, string];
        const h = (s: string) => keyHash(`${s}${round}`);
        for (const id of ids) await store.sessions.createSession(record(id, 'alice'));
        await bindAs(store.bindings, a, keyed(`sb-${a}`, h('a')));
        await bindAs(store.bindings, d, keyed(`sb-${d}`, h('d')));
        const [tb, tc, td] = await Promise.all([b, c, d].map((id) => store.bindings.acquireLock(id, 60_000)));
        const lookups = () => Promise.all(['a', 'b', 'c', 'd', 'd2'].map((s) => store.bindings.sessionForEgressKey(h(s))));
        const [bound, early, cleared, , late, replaced] = await Promise.all([
          store.bindings.setSandbox(b, keyed(`sb-${b}`, h('b')), tb!),
          lookups(),
          store.bindings.clearSandbox(a, `sb-${a}`),
          store.bindings.setSandbox(c, keyed(`sb-${c}`, h('c')), tc!),
          lookups(),
          // One session's own race: its sandbox is reported lost while its holder replaces it.
          store.bindings.setSandbox(d, keyed(`sb-${d}2`, h('d2')), td!),
          store.bindings.clearSandbox(d, `sb-${d}`),
        ]);
        expect([bound, cleared, replaced]).toEqual([true, true, true]);
        // Either order ends the same: the clear names only the old sandbox, so it unbinds it or nothing.
        expect((await store.sessions.getSession(d))!.sandbox).toEqual(keyed(`sb-${d}2`, h('d2')));
        // Mid-race answers: a key names its own session or nobody, never another.
        for (const answers of [early, late]) expect(answers.every((id, i) => id === null || id === [a, b, c, d, d][i])).toBe(true);
        expect(await store.bindings.sessionForEgressKey(h('a'))).toBeNull();
        expect(await store.bindings.sessionForEgressKey(h('b'))).toBe(b);
        expect(await store.bindings.sessionForEgressKey(h('c'))).toBe(c);
        expect(await store.bindings.sessionForEgressKey(h('d'))).toBeNull();
        expect(await store.bindings.sessionForEgressKey(h('d2'))).toBe(d);
        await expectKeysMatchRecords(store, ids, ['a', 'b', 'c', 'd', 'd2'].map(h));
      }
    });
  });
}
