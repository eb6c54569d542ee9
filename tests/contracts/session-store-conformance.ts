// The Agent SDK's SessionStore conformance cases, as berth's own contract suite. Source: the
// thirteen behavioural checks of the Claude Agent SDK repository's
// examples/session-stores/shared/conformance.ts (anthropics/claude-agent-sdk-typescript), restated
// here for vitest; each case keeps that file's name so a failure maps back to it. The SDK relies
// on exactly these for transcript mirroring and resume. Cases of optional methods a store does
// not implement are skipped with the reason, never passed silently.

import { describe, expect, test as vitestTest, type TestFunction } from 'vitest';
import type { SessionKey, SessionStore, SessionStoreEntry } from '@anthropic-ai/claude-agent-sdk';

export interface SessionStoreConformanceOptions {
  name: string;
  /** A fresh, empty, isolated store per call. */
  newStore(): Promise<SessionStore> | SessionStore;
  /**
   * Cases the store is known to fail, each with the reason: they run as `test.fails`, so the
   * deviation stays pinned and a fix shows up as a failure to remove the entry.
   */
  knownFailures?: Record<string, string>;
}

const KEY: SessionKey = { projectKey: 'proj', sessionId: 'sess' };
const sub = (subpath: string, key: SessionKey = KEY): SessionKey => ({ ...key, subpath });
const entry = (type: string, fields: Record<string, unknown> = {}): SessionStoreEntry => ({ type, ...fields });

/** Deep equality that ignores object-key order, as the SDK does (a JSONB store may reorder keys). */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, sorted(v)]));
  return value;
}
const expectEntries = (actual: unknown, expected: SessionStoreEntry[]): void => expect(sorted(actual)).toEqual(sorted(expected));

type Optional = 'listSessions' | 'delete' | 'listSubkeys';

export function runSessionStoreConformance(options: SessionStoreConformanceOptions): void {
  describe(`SessionStore conformance (Agent SDK cases): ${options.name}`, () => {
    const test = (name: string, body: TestFunction): void => {
      if (options.knownFailures?.[name] !== undefined) vitestTest.fails(`${name} (known deviation: ${options.knownFailures[name]})`, body);
      else vitestTest(name, body);
    };
    /** Runs `body` when the store implements `method`; otherwise the case is skipped, saying why. */
    const withOptional = (method: Optional, name: string, body: (store: SessionStore) => Promise<void>): void => {
      test(name, async (ctx) => {
        const store = await options.newStore();
        if (typeof store[method] !== 'function') ctx.skip(`the store implements no optional ${method}()`);
        await body(store);
      });
    };

    test('append then load returns same entries in same order', async () => {
      const store = await options.newStore();
      const entries = [entry('a', { n: 1, nested: { x: [1, 2] } }), entry('b', { n: 2 })];
      await store.append(KEY, entries);
      expectEntries(await store.load(KEY), entries);
    });

    test('load unknown key returns null', async () => {
      const store = await options.newStore();
      expect(await store.load(KEY)).toBeNull();
      expect(await store.load(sub('subagents/a'))).toBeNull();
    });

    test('multiple append calls preserve call order', async () => {
      const store = await options.newStore();
      await store.append(KEY, [entry('a')]);
      await store.append(KEY, [entry('b'), entry('c')]);
      await store.append(KEY, [entry('d')]);
      expectEntries(await store.load(KEY), ['a', 'b', 'c', 'd'].map((t) => entry(t)));
    });

    test('append([]) is a no-op', async () => {
      const store = await options.newStore();
      await store.append(KEY, []);
      expect(await store.load(KEY)).toBeNull();
      await store.append(KEY, [entry('a')]);
      await store.append(KEY, []);
      expectEntries(await store.load(KEY), [entry('a')]);
    });

    test('subpath keys are stored independently of main', async () => {
      const store = await options.newStore();
      await store.append(KEY, [entry('main')]);
      await store.append(sub('subagents/x'), [entry('sub')]);
      expectEntries(await store.load(KEY), [entry('main')]);
      expectEntries(await store.load(sub('subagents/x')), [entry('sub')]);
    });

    test('projectKey isolation', async () => {
      const store = await options.newStore();
      const a: SessionKey = { projectKey: 'A', sessionId: 's' };
      const b: SessionKey = { projectKey: 'B', sessionId: 's' };
      await store.append(a, [entry('a')]);
      await store.append(b, [entry('b')]);
      expectEntries(await store.load(a), [entry('a')]);
      expectEntries(await store.load(b), [entry('b')]);
    });

    withOptional('listSessions', 'listSessions returns sessionIds for project', async (store) => {
      await store.append({ projectKey: 'P', sessionId: 's1' }, [entry('a')]);
      await store.append({ projectKey: 'P', sessionId: 's2' }, [entry('b')]);
      await store.append({ projectKey: 'Q', sessionId: 's3' }, [entry('c')]);
      const listed = await store.listSessions!('P');
      expect(listed.map((s) => s.sessionId).sort()).toEqual(['s1', 's2']);
      // mtime is epoch milliseconds, not seconds.
      expect(listed.every((s) => s.mtime > 1e12)).toBe(true);
      expect(await store.listSessions!('never-seen')).toEqual([]);
    });

    withOptional('listSessions', 'listSessions excludes subagent subpaths', async (store) => {
      await store.append({ projectKey: 'P', sessionId: 's1', subpath: 'subagents/x' }, [entry('sub')]);
      expect((await store.listSessions!('P')).map((s) => s.sessionId)).not.toContain('s1');
    });

    withOptional('delete', 'delete main then load returns null', async (store) => {
      await store.append(KEY, [entry('a')]);
      await store.delete!(KEY);
      expect(await store.load(KEY)).toBeNull();
      await store.delete!({ projectKey: 'x', sessionId: 'never' });
    });

    withOptional('delete', 'delete main cascades to subkeys', async (store) => {
      await store.append(KEY, [entry('main')]);
      await store.append(sub('subagents/a'), [entry('sa')]);
      await store.append(sub('subagents/b'), [entry('sb')]);
      await store.append({ projectKey: 'proj', sessionId: 'other' }, [entry('o')]);
      await store.append({ projectKey: 'proj2', sessionId: 'sess' }, [entry('p2')]);
      await store.delete!(KEY);
      for (const key of [KEY, sub('subagents/a'), sub('subagents/b')]) expect(await store.load(key)).toBeNull();
      expectEntries(await store.load({ projectKey: 'proj', sessionId: 'other' }), [entry('o')]);
      expectEntries(await store.load({ projectKey: 'proj2', sessionId: 'sess' }), [entry('p2')]);
      if (store.listSubkeys) expect(await store.listSubkeys(KEY)).toEqual([]);
    });

    withOptional('delete', 'delete with subpath removes only that subkey', async (store) => {
      await store.append(KEY, [entry('main')]);
      await store.append(sub('subagents/a'), [entry('sa')]);
      await store.append(sub('subagents/b'), [entry('sb')]);
      await store.delete!(sub('subagents/a'));
      expectEntries(await store.load(KEY), [entry('main')]);
      expect(await store.load(sub('subagents/a'))).toBeNull();
      expectEntries(await store.load(sub('subagents/b')), [entry('sb')]);
    });

    withOptional('listSubkeys', 'listSubkeys returns subpaths for the session', async (store) => {
      await store.append(sub('subagents/a'), [entry('sa')]);
      await store.append(sub('subagents/b'), [entry('sb')]);
      await store.append(sub('subagents/c', { projectKey: 'proj', sessionId: 'other' }), [entry('sc')]);
      expect((await store.listSubkeys!(KEY)).sort()).toEqual(['subagents/a', 'subagents/b']);
    });

    withOptional('listSubkeys', 'listSubkeys excludes main transcript', async (store) => {
      await store.append(KEY, [entry('main')]);
      expect(await store.listSubkeys!(KEY)).toEqual([]);
      expect(await store.listSubkeys!({ projectKey: 'x', sessionId: 'never' })).toEqual([]);
    });
  });
}
