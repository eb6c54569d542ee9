// What isolating local sandboxes costs (issue 14), each as a ratio against plain processes in
// the same run, interleaved:
// - warm claim → first assistant message: a new session's first turn on a stack whose standby is
//   ready, isolated (bubblewrap + bridges) vs BERTH_LOCAL_ISOLATION=off (goal ≤ 1.1×);
// - cold start: LocalProcessBackend.claim() on a pool-0 profile, isolated vs not;
// - RSS of one idle standby (its whole process tree: bwrap, its init, the agent server and its
//   pre-started CLI), isolated vs not, read from /proc once both pools are ready.
// Neighbours: measure.ts (interleaving, medians, the JSON line).

import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { LocalProcessBackend } from '@berth/orchestrator/local';
import { childPids } from '../fixtures/proc-env.js';
import { authHeaders, sendMessage, startTestStack, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';
import { claimSample, compare, ROUNDS, type Sample } from './measure.js';

let isolated: TestStack;
let plain: TestStack;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-iso-'));
  await chmod(stateDir, 0o711);
  isolated = await startTestStack({ poolSize: 1, env: { BERTH_LOCAL_ISOLATION: 'on' }, backendOptions: { stateDir } });
  plain = await startTestStack({ poolSize: 1, env: { BERTH_LOCAL_ISOLATION: 'off' } });
}, 120_000);

afterAll(async () => {
  await isolated?.stop();
  await plain?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function standbyReady(s: TestStack): Promise<void> {
  await waitFor('a ready standby', async () => (await s.stack.backend!.pool())[0]!.ready >= 1, { timeoutMs: 60_000 });
}

let sessions = 0;

/** Times POST of a new session's first message until its first assistant message frame. */
function firstAssistant(s: TestStack): Sample {
  return async () => {
    await standbyReady(s);
    const id = `bench-iso-${++sessions}`;
    let firstMs: number | undefined;
    const start = performance.now();
    await sendMessage(s.url, id, 'hello', {
      token: s.tokens.alice,
      onFrame: (frame) => {
        if (firstMs === undefined && frame.event === 'message' && (JSON.parse(frame.data) as { type?: string }).type === 'assistant') firstMs = performance.now() - start;
      },
    });
    const del = await fetch(`${s.url}/sessions/${id}`, { method: 'DELETE', headers: authHeaders(s.tokens.alice) });
    await del.body?.cancel();
    if (firstMs === undefined) throw new Error(`session ${id}: no assistant message`);
    return firstMs;
  };
}

test('warm claim → first assistant message, isolated vs plain', async () => {
  const result = await compare('local_isolated_first_assistant_vs_plain', firstAssistant(isolated), firstAssistant(plain), 1, {
    note: 'new session on a ready standby, POST → first assistant frame; goal ratio ≤ 1.1',
  });
  expect(result.candidate.samples).toBe(ROUNDS);
  expect(Number.isFinite(result.ratioP50)).toBe(true);
}, 600_000);

test('cold start, isolated vs plain', async () => {
  const profiles = [{ name: 'cold', poolSize: 0 }];
  const env = { BERTH_AGENT_PRESTART: '0' };
  const jailed = new LocalProcessBackend({ profiles, agentEnv: env, isolation: 'on', stateDir });
  const bare = new LocalProcessBackend({ profiles, agentEnv: env, isolation: 'off' });
  await jailed.start();
  await bare.start();
  try {
    const none = async (): Promise<void> => {};
    const result = await compare('local_isolated_cold_start_vs_plain', claimSample(() => jailed, 'cold', none), claimSample(() => bare, 'cold', none), 1, {
      note: 'LocalProcessBackend.claim() on a pool-0 profile: spawn → listening → healthy',
    });
    expect(result.candidate.samples).toBe(ROUNDS);
    expect(Number.isFinite(result.ratioP50)).toBe(true);
  } finally {
    await jailed.stop();
    await bare.stop();
  }
}, 600_000);

/** Resident set of a process and all its descendants, KiB. */
function treeRssKiB(pid: number): number {
  let total = 0;
  const visit = (p: number): void => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0);
    } catch {
      return;
    }
    for (const child of childPids(p)) visit(child);
  };
  visit(pid);
  return total;
}

test('RSS per idle standby, isolated vs plain', async () => {
  await standbyReady(isolated);
  await standbyReady(plain);
  const jails = readdirSync(stateDir).map((id) => (JSON.parse(readFileSync(path.join(stateDir, id, 'owner.json'), 'utf8')) as { jailPid: number }).jailPid);
  expect(jails).toHaveLength(1);
  const plainRoots = childPids(process.pid).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmd.includes('agent-image') && !cmd.includes('bwrap');
    } catch {
      return false;
    }
  });
  expect(plainRoots).toHaveLength(1);
  const isolatedKiB = treeRssKiB(jails[0]!);
  const plainKiB = treeRssKiB(plainRoots[0]!);
  console.log(JSON.stringify({ bench: 'local_isolated_standby_rss_vs_plain', isolatedMiB: Math.round(isolatedKiB / 102.4) / 10, plainMiB: Math.round(plainKiB / 102.4) / 10, ratio: Math.round((isolatedKiB / plainKiB) * 1000) / 1000, note: 'one ready standby (healthy, not bootstrapped, its CLI pre-started): its whole process tree' }));
  expect(isolatedKiB).toBeGreaterThan(0);
  expect(plainKiB).toBeGreaterThan(0);
}, 120_000);
