// One check of the Agent SDK's SessionStore conformance cases (the SDK repository's
// examples/session-stores/shared/conformance.ts) that berth's agent-side store failed: append()
// with no entries must not create a record, so load() of that key stays null, not [].
import { expect, test } from 'vitest';
import { BerthSessionStore } from '@berth/agent-image/testing';

const key = { projectKey: 'tenant-alice', sessionId: 'sess-empty' };

test('append([]) creates no record: load() is null, listSubkeys() empty, no batch is sent', async () => {
  const store = new BerthSessionStore();
  const sent: unknown[] = [];
  store.attach((batch) => (sent.push(batch), true));
  await store.append(key, []);
  await store.append({ ...key, subpath: 'subagents/agent-1' }, []);
  expect(await store.load(key)).toBeNull();
  expect(await store.listSubkeys(key)).toEqual([]);
  expect(sent).toEqual([]);
  // A real entry still makes the record.
  await store.append(key, [{ type: 'user', uuid: 'u1' }]);
  expect(await store.load(key)).toEqual([{ type: 'user', uuid: 'u1' }]);
  expect(sent).toHaveLength(1);
});
