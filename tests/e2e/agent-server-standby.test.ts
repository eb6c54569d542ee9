// The standby's pre-started CLI (agent-image/src/standby.ts), with the real SDK and CLI against
// the offline model. Pins: before its claim a standby's CLI runs, and neither it, its environment
// nor the standby's files hold a credential, an endpoint or anything of a tenant (the CLI is
// already claimed into the work folder, holding its prompt); the first turn of a new session runs
// on that CLI with the session's model, credential and policy, applied at bootstrap; a session
// whose start settings differ (or that resumes) starts cold and the parked CLI goes.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, test } from 'vitest';
import { startOfflineModel } from '@berth/cli/offline-model';
import { alive, bootstrap, cliPids, environOf, headers, mainRequests, messages, readFrames, startRig, stopRig, terminal, turn, type Rig } from '../fixtures/offline-model-agent.js';
import { waitFor } from '../fixtures/wait-for.js';

const CREDENTIAL = 'session-credential-xyz';
const START = { allowedTools: ['Bash'], permissionMode: 'default' as const };

const model = await startOfflineModel();
let rig: Rig | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await stopRig(rig, false);
  rig = undefined;
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});
afterAll(() => model.close());

async function standbyCli(r: Rig): Promise<string> {
  const body = (await (await fetch(`${r.agent.url}/health`, { headers: headers() })).json()) as { standbyCli: string };
  return body.standbyCli;
}

async function parkedRig(start: object): Promise<{ rig: Rig; cli: number }> {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'berth-standby-'));
  rig = await startRig({ BERTH_AGENT_STANDBY_PROFILE: JSON.stringify(start), BERTH_AGENT_DATA_DIR: dataDir, BERTH_AGENT_MAX_RETRIES: '1' }, model);
  await waitFor('the standby CLI parked', async () => (await standbyCli(rig!)) === 'parked', { timeoutMs: 90_000 });
  const clis = cliPids(rig.agent.child.pid!);
  expect(clis).toHaveLength(1);
  return { rig, cli: clis[0]! };
}

/** Files under `dir` whose content contains `needle` (grep; an empty answer is none). */
function filesContaining(dir: string, needle: string): string[] {
  try {
    return execFileSync('grep', ['-rlF', needle, dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

test('before its claim a standby runs its CLI and holds no credential, endpoint or tenant data; the first turn runs on that CLI', async () => {
  const untouched = model.requests.length;
  const { rig: r, cli } = await parkedRig(START);
  // Started, claimed into the work folder and warmed without a single request to the model.
  expect(model.requests.length).toBe(untouched);
  const env = environOf(cli);
  for (const name of Object.keys(env)) expect(name).not.toMatch(/^(ANTHROPIC_|HTTPS?_PROXY$|https?_proxy$|AGENT_AUTH_TOKEN)/);
  const cmdline = execFileSync('cat', [`/proc/${cli}/cmdline`], { encoding: 'utf8' });
  expect(cmdline).not.toContain(model.url);
  expect(filesContaining(dataDir!, 'alice')).toEqual([]);
  expect(filesContaining(dataDir!, model.url)).toEqual([]);

  const idle = mainRequests(model).length;
  expect((await bootstrap(r, { profile: { ...START, model: 'claim-time-model' } })).status).toBe(200);
  // The CLI was claimed into the work folder at the standby's start; bootstrap applies the
  // session's half to it but writes no prompt: nothing reaches the model before the first turn.
  const before = mainRequests(model).length;
  expect(before).toBe(idle);
  const frames = await turn(r, 'hi');
  expect(terminal(frames).map((f) => f.event)).toEqual(['done']);
  expect(await standbyCli(r)).toBe('claimed');
  const seen = mainRequests(model).slice(before);
  expect(seen.length).toBeGreaterThan(0);
  // The session's half arrived at bootstrap, before the prompt: its credential, endpoint and model.
  for (const request of seen) {
    expect(request.headers['x-api-key']).toBe(CREDENTIAL);
    expect(request.body?.model).toBe('claim-time-model');
  }
  // The credential rides in no frame (transcript entries included) and lands in no file.
  expect(JSON.stringify(frames)).not.toContain(CREDENTIAL);
  expect(filesContaining(dataDir!, CREDENTIAL)).toEqual([]);

  // A follow-up resumes the same conversation (on the CLI pre-started after the first turn).
  const second = await turn(r, 'and again');
  expect(terminal(second).map((f) => f.event)).toEqual(['done']);
  expect(JSON.stringify(messages(second).find((f) => f.json.type === 'result')?.json)).toContain('hi');
}, 180_000);

test("the session's permission policy reaches the pre-started CLI's callbacks", async () => {
  const { rig: r } = await parkedRig({ permissions: {} });
  expect((await bootstrap(r, { profile: { permissions: { rules: [{ tool: 'Bash', decision: 'deny' }] } } })).status).toBe(200);
  const frames = await turn(r, 'run [[bash: echo should-not-run]]');
  expect(terminal(frames).map((f) => f.event)).toEqual(['done']);
  expect(await standbyCli(r)).toBe('claimed');
  const toolResult = JSON.stringify(messages(frames).filter((f) => f.json.type === 'user').map((f) => f.json));
  expect(toolResult).toContain("denied by the tenant's permission policy");
}, 180_000);

test('a session with other start settings discards the parked CLI and starts cold', async () => {
  const { rig: r, cli } = await parkedRig(START);
  expect((await bootstrap(r, { profile: { ...START, systemPrompt: 'You are another tenant.' } })).status).toBe(200);
  expect(await standbyCli(r)).toBe('discarded');
  await waitFor('the parked CLI gone', () => !alive(cli), { timeoutMs: 30_000 });
  const before = mainRequests(model).length;
  const frames = await readFrames(await fetch(`${r.agent.url}/sessions/sess-1/messages`, { method: 'POST', headers: headers(), body: JSON.stringify({ prompt: 'hi', turn: 1 }) }));
  expect(terminal(frames).map((f) => f.event)).toEqual(['done']);
  const system = JSON.stringify(mainRequests(model).slice(before)[0]?.body?.system);
  expect(system).toContain('You are another tenant.');
}, 180_000);
