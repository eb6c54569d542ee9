// The standby's pre-started CLI (agent-image/src/standby.ts), with the real SDK and CLI against
// the offline model. Pins: before its claim a standby's CLI runs, and neither it, its environment
// nor the standby's files hold a credential, an endpoint or anything of a tenant (the CLI is
// already claimed into the work folder, holding its prompt); the first turn of a new session runs
// on that CLI with the session's model, credential and policy, applied at bootstrap; a session
// whose start settings differ (or that resumes) starts cold and the parked CLI goes. With the
// egress gateway's URL (BERTH_EGRESS_URL), the parked CLI holds the endpoint under the sandbox's
// own egress key and nothing else: the bootstrap response names the key's hash, the claim applies
// no environment, and the turn's requests carry the key; a bootstrap for another endpoint gets no
// hash and its own credential applied, as without a key.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, test } from 'vitest';
import { startOfflineModel } from '@berth/cli/offline-model';
import { egressEndpoint, egressKeySha256, isEgressKey } from '@berth/protocol';
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

async function parkedRig(start: object, env: Record<string, string> = {}): Promise<{ rig: Rig; cli: number }> {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'berth-standby-'));
  rig = await startRig({ BERTH_AGENT_STANDBY_PROFILE: JSON.stringify(start), BERTH_AGENT_DATA_DIR: dataDir, BERTH_AGENT_MAX_RETRIES: '1', ...env }, model);
  await waitFor('the standby CLI parked', async () => (await standbyCli(rig!)) === 'parked', { timeoutMs: 90_000 });
  const clis = cliPids(rig.agent.child.pid!);
  expect(clis).toHaveLength(1);
  return { rig, cli: clis[0]! };
}

/**
 * The first turn, on the standby's CLI: it ends `done`, the CLI is `claimed`, and it reached the
 * model. Returns its frames and the model requests it sent.
 */
async function firstTurnOnSpare(r: Rig): Promise<{ frames: Awaited<ReturnType<typeof turn>>; seen: ReturnType<typeof mainRequests> }> {
  const before = mainRequests(model).length;
  const frames = await turn(r, 'hi');
  expect(terminal(frames).map((f) => f.event)).toEqual(['done']);
  expect(await standbyCli(r)).toBe('claimed');
  const seen = mainRequests(model).slice(before);
  expect(seen.length).toBeGreaterThan(0);
  return { frames, seen };
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
  expect(mainRequests(model).length).toBe(idle);
  const { frames, seen } = await firstTurnOnSpare(r);
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

test("with the egress gateway's URL the parked CLI holds the endpoint under the sandbox's own key; the bootstrap names its hash and the turn runs on it", async () => {
  // The offline model stands in for the egress gateway: what matters here is what the CLI sends.
  const untouched = model.requests.length;
  const { rig: r, cli } = await parkedRig(START, { BERTH_EGRESS_URL: model.url });
  // With an endpoint in hand, the parked CLI still sent nothing: its start and warm-up are local.
  expect(model.requests.length).toBe(untouched);
  const env = environOf(cli);
  const key = env.ANTHROPIC_API_KEY!;
  expect(isEgressKey(key)).toBe(true);
  expect(env.ANTHROPIC_BASE_URL).toBe(model.url);
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) expect(decodeURIComponent(new URL(env[name]!).password), name).toBe(key);
  // Still nothing of a tenant, and not the agent's own token.
  for (const name of Object.keys(env)) expect(name).not.toMatch(/^(AGENT_AUTH_TOKEN|CLAUDE_CODE_PROJECT_DIR_NAME)/);
  expect(filesContaining(dataDir!, 'alice')).toEqual([]);
  expect(filesContaining(dataDir!, key)).toEqual([]);

  // The gateway's bootstrap for the same endpoint, with the session credential it minted.
  const res = await bootstrap(r, { ...egressEndpoint(model.url, CREDENTIAL), profile: { ...START, model: 'claim-time-model' } });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ bootstrapped: true, sessionId: 'sess-1', egressKeySha256: egressKeySha256(key) });
  const { frames, seen } = await firstTurnOnSpare(r);
  // The key, not the session credential: no environment was applied at the claim. The model is.
  for (const request of seen) {
    expect(request.headers['x-api-key']).toBe(key);
    expect(request.body?.model).toBe('claim-time-model');
  }
  expect(JSON.stringify(frames)).not.toContain(key);
}, 180_000);

test('a bootstrap for another endpoint gets no key hash, and the session credential is applied to the parked CLI', async () => {
  const { rig: r } = await parkedRig(START, { BERTH_EGRESS_URL: 'http://egress.invalid:8081' });
  const res = await bootstrap(r);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ bootstrapped: true, sessionId: 'sess-1' });
  const { seen } = await firstTurnOnSpare(r);
  for (const request of seen) expect(request.headers['x-api-key']).toBe(CREDENTIAL);
}, 180_000);
