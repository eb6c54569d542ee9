// Pools keyed by agent start settings, through the whole stack (local backend, isolation as the
// machine allows, real SDK and CLI, offline model). Pins: two tenants whose profiles differ in
// what the SDK fixes at start-up (system prompt, tools) each get a standby whose CLI was started
// with their own profile, derived from the tenants with no profiles file naming agents; a pool
// miss (a profile with no standbys) still serves the first turn, cold, and is counted.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AGENT_AUTH_HEADER } from '@berth/protocol';
import { hashToken } from '@berth/gateway/tenants';
import { sendMessage, startTestStack, terminalFrames, TEST_TOKENS, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

const CAROL = 'berth_test_carol_token';
let s: TestStack;

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-standby-profiles-'));
  const tenant = (name: string, token: string, agent: string, profile: string) =>
    `  ${name}:\n    tokenHashes: ["${hashToken(token)}"]\n    agent: ${agent}\n    sandboxProfile: ${profile}\n    egress: { allow: ["allowed.test"] }\n`;
  await writeFile(path.join(dir, 'tenants.yaml'), `tenants:\n${[
    tenant('alice', TEST_TOKENS.alice, '{ systemPrompt: "You are agent A.", allowedTools: [Bash], model: model-a }', 'pool-a'),
    tenant('bob', TEST_TOKENS.bob, '{ systemPrompt: "You are agent B.", disallowedTools: [Bash], model: model-b }', 'pool-b'),
    tenant('carol', CAROL, '{ maxTurns: 3 }', 'pool-cold'),
  ].join('')}admins:\n  tokenHashes: ["${hashToken(TEST_TOKENS.admin)}"]\n`);
  const profiles = path.join(dir, 'profiles.yaml');
  await writeFile(profiles, 'profiles:\n  - { name: pool-a, poolSize: 1 }\n  - { name: pool-b, poolSize: 1 }\n  - { name: pool-cold, poolSize: 0 }\n');
  s = await startTestStack({ dir, env: { BERTH_PROFILES_FILE: profiles } });
  await waitFor('both pools ready', async () => (await s.stack.backend!.pool()).filter((p) => p.target > 0).every((p) => p.ready >= 1), { timeoutMs: 120_000 });
}, 180_000);
afterAll(() => s?.stop());

/** The agent's view of its standby CLI, through the session's binding. */
async function standbyCliOf(sessionId: string): Promise<string> {
  const binding = (await s.stack.store.sessions.getSession(sessionId))!.sandbox!;
  const res = await fetch(`${binding.url}/health`, { headers: { [AGENT_AUTH_HEADER]: binding.authToken } });
  return ((await res.json()) as { standbyCli: string }).standbyCli;
}

test('two tenants with different start settings each get a standby pre-started with their own', async () => {
  const [a, b] = await Promise.all([
    sendMessage(s.url, 'sess-a', 'hi from a', { token: TEST_TOKENS.alice }),
    sendMessage(s.url, 'sess-b', 'hi from b', { token: TEST_TOKENS.bob }),
  ]);
  for (const t of [a, b]) expect(terminalFrames(t).map((f) => f.event)).toEqual(['done']);
  // 'claimed': the first turn ran on the CLI the standby started before its claim, which the
  // agent takes only when it was started with the session's start settings.
  expect(await standbyCliOf('sess-a')).toBe('claimed');
  expect(await standbyCliOf('sess-b')).toBe('claimed');
  const pools = await s.stack.backend!.pool();
  for (const name of ['pool-a', 'pool-b']) expect(pools.find((p) => p.profile === name)).toMatchObject({ warmClaims: 1, coldStarts: 0 });
  const seen = (marker: string) => s.model.requests.find((r) => r.kind === 'main' && JSON.stringify(r.body?.messages).includes(marker))!;
  const [fromA, fromB] = [seen('hi from a'), seen('hi from b')];
  expect(fromA.body?.model).toBe('model-a');
  expect(JSON.stringify(fromA.body?.system)).toContain('You are agent A.');
  expect((fromA.body?.tools as Array<{ name: string }>).map((t) => t.name)).toContain('Bash');
  expect(fromB.body?.model).toBe('model-b');
  expect(JSON.stringify(fromB.body?.system)).toContain('You are agent B.');
  expect((fromB.body?.tools as Array<{ name: string }>).map((t) => t.name)).not.toContain('Bash');
}, 180_000);

test('a pool miss still serves the first turn, cold, and is counted', async () => {
  const t = await sendMessage(s.url, 'sess-c', 'hi from c', { token: CAROL });
  expect(terminalFrames(t).map((f) => f.event)).toEqual(['done']);
  expect((await s.stack.backend!.pool()).find((p) => p.profile === 'pool-cold')).toMatchObject({ coldStarts: 1, warmClaims: 0 });
}, 180_000);
