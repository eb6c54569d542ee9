// The tenants file is reloaded on change without a restart: a good change applies (a new tenant's
// token works at once), a bad change is refused with every problem named, and the last good
// directory stays in force (existing tokens keep working, the broken file's tenants do not appear).

import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { hashToken } from '@berth/gateway/tenants';
import type { ReloadOutcome } from '@berth/gateway/tenants';
import { authHeaders, startTestStack, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let s: TestStack;
const outcomes: ReloadOutcome[] = [];

beforeAll(async () => {
  s = await startTestStack({ poolSize: 0 });
  s.stack.tenants.onReload((outcome) => outcomes.push(outcome));
});
afterAll(async () => s?.stop());

async function status(token: string): Promise<number> {
  return (await fetch(`${s.url}/sessions`, { headers: authHeaders(token) })).status;
}

/** Replaces the file the way editors and Secret mounts do (write elsewhere, rename over). */
async function replaceFile(text: string): Promise<void> {
  const file = path.join(s.dir, 'tenants.yaml');
  await writeFile(`${file}.new`, text);
  await rename(`${file}.new`, file);
}

async function nextOutcome(count: number): Promise<ReloadOutcome> {
  await waitFor(`the gateway to notice file change ${count}`, () => outcomes.length >= count);
  return outcomes[count - 1]!;
}

test('a good change applies without a restart', async () => {
  expect(await status('berth_carol_token')).toBe(401);
  const original = await readFile(path.join(s.dir, 'tenants.yaml'), 'utf8');
  await replaceFile(original.replace('tenants:\n', `tenants:\n  carol:\n    tokenHashes: ["${hashToken('berth_carol_token')}"]\n`));
  expect(await nextOutcome(1)).toEqual({ kind: 'applied', tenants: 3 });
  expect(await status('berth_carol_token')).toBe(200);
  expect(await status(s.tokens.alice)).toBe(200);
});

test('a bad change is refused with every problem named, and the last good file stays in force', async () => {
  const count = outcomes.length;
  await replaceFile(`tenants:\n  mallory:\n    tokenHashes: ["${hashToken('berth_mallory_token')}"]\n    agent: { maxTurns: -3 }\n  Bad Name:\n    tokenHashes: ["not-a-hash"]\n`);
  const outcome = await nextOutcome(count + 1);
  expect(outcome.kind).toBe('refused');
  const problems = (outcome as { problems: string[] }).problems.join('\n');
  expect(problems).toContain('tenants.mallory.agent.maxTurns');
  expect(problems).toContain('tenants.Bad Name');
  expect(problems).toContain('tokenHashes[0]');
  // Still the last good directory: carol and alice in, mallory out.
  expect(await status('berth_carol_token')).toBe(200);
  expect(await status(s.tokens.alice)).toBe(200);
  expect(await status('berth_mallory_token')).toBe(401);
});
