// The Agent SDK's SessionStore conformance cases (tests/contracts/session-store-conformance.ts)
// against the agent's store, and against the SDK's own InMemorySessionStore, which implements
// every optional method, so no case of the suite goes unexercised. Then what only berth's store
// promises: a handed-over transcript is served under the tenant's projectKey, nothing crosses
// tenants, and an empty append sends no batch to the gateway.

import { expect, test } from 'vitest';
import { InMemorySessionStore } from '@anthropic-ai/claude-agent-sdk';
import { BerthSessionStore, projectKeyFor } from '@berth/agent-image';
import { runSessionStoreConformance } from '../contracts/session-store-conformance.js';

runSessionStoreConformance({ name: 'BerthSessionStore (agent-image)', newStore: () => new BerthSessionStore() });
runSessionStoreConformance({
  name: 'InMemorySessionStore (the SDK, the suite checked against a reference)',
  newStore: () => new InMemorySessionStore(),
  knownFailures: { 'append([]) is a no-op': "the SDK's in-memory store creates an empty record, so load() returns [] (the SDK treats [] and null alike on resume)" },
});

const handedOver = [
  { sdkSessionId: 'sdk-1', subpath: '', entry: { type: 'user', uuid: 'u1' } },
  { sdkSessionId: 'sdk-1', subpath: 'subagents/agent-a', entry: { type: 'user', uuid: 'u2' } },
];

test('a handed-over transcript is served under the store projectKey (the tenant) and under no other', async () => {
  const store = new BerthSessionStore(handedOver, 'acme');
  expect(await store.load({ projectKey: 'acme', sessionId: 'sdk-1' })).toEqual([{ type: 'user', uuid: 'u1' }]);
  expect(await store.listSubkeys({ projectKey: 'acme', sessionId: 'sdk-1' })).toEqual(['subagents/agent-a']);
  expect(await store.load({ projectKey: 'acme', sessionId: 'sdk-1', subpath: 'subagents/agent-a' })).toEqual([{ type: 'user', uuid: 'u2' }]);
  expect(await store.load({ projectKey: 'globex', sessionId: 'sdk-1' })).toBeNull();
  expect(await store.listSubkeys({ projectKey: 'globex', sessionId: 'sdk-1' })).toEqual([]);
  // Appends of the resumed session continue the same record, deduplicated on uuid.
  await store.append({ projectKey: 'acme', sessionId: 'sdk-1' }, [{ type: 'user', uuid: 'u1' }, { type: 'assistant', uuid: 'a1' }]);
  expect(store.size('sdk-1')).toBe(2);
});

test('append([]) sends no batch to the gateway; a real entry sends one', async () => {
  const store = new BerthSessionStore([], 'acme');
  const sent: unknown[] = [];
  store.attach((batch) => (sent.push(batch), true));
  const key = { projectKey: 'acme', sessionId: 'sdk-empty' };
  await store.append(key, []);
  await store.append({ ...key, subpath: 'subagents/agent-1' }, []);
  expect(await store.listSubkeys(key)).toEqual([]);
  expect(sent).toEqual([]);
  await store.append(key, [{ type: 'user', uuid: 'u1' }]);
  expect(sent).toHaveLength(1);
});

test('projectKeyFor: the tenant itself where the CLI accepts it as a directory name, else a stable valid name', () => {
  expect(projectKeyFor('acme')).toBe('acme');
  expect(projectKeyFor('team_a-1')).toBe('team_a-1');
  const rule = /^[A-Za-z0-9_-]{1,64}$/;
  for (const refused of ['con', 'NUL', 'lpt1', 'a.b', 'x'.repeat(65), 'über']) {
    const key = projectKeyFor(refused);
    expect(key).toMatch(rule);
    expect(key).not.toBe(refused);
    expect(projectKeyFor(refused)).toBe(key);
  }
  expect(projectKeyFor('con')).not.toBe(projectKeyFor('nul'));
});
