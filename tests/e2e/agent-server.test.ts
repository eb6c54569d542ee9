// The agent server end to end: real agent process (agent-image/dist/main.js), real Agent SDK and
// CLI, the offline model. One process serves the whole file (bootstrap happens once per sandbox),
// so tests run in order and each one leaves the session idle for the next.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { userPrompts } from '@berth/cli/offline-model';
import { startAgentProcess } from '@berth/orchestrator/local';
import {
  alive, bootstrap, bootstrapBody, cliPids, environOf, headers, mainRequests, messages, postTurn, readFrames,
  resultText, startRig, stopRig, terminal, turn, type ParsedFrame, type Rig,
} from '../fixtures/offline-model-agent.js';
import { waitFor } from '../fixtures/wait-for.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ BERTH_AGENT_MAX_RETRIES: '1' });
});
afterAll(async () => {
  await stopRig(rig);
});

describe('before bootstrap', () => {
  test('every request without the right token is 401 problem+json', async () => {
    for (const token of [null, 'wrong-token']) {
      const res = await fetch(`${rig.agent.url}/health`, { headers: headers(token) });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('unauthenticated');
    }
  });

  test('a server holding only AGENT_AUTH_TOKEN_SHA256 accepts the token and refuses others', async () => {
    const hashed = await startAgentProcess({ authToken: '', env: { AGENT_AUTH_TOKEN_SHA256: createHash('sha256').update('pod-token').digest('hex') } });
    try {
      expect((await fetch(`${hashed.url}/health`, { headers: headers('pod-token') })).status).toBe(200);
      expect((await fetch(`${hashed.url}/health`, { headers: headers('pod-token2') })).status).toBe(401);
      expect((await fetch(`${hashed.url}/health`, { headers: headers(null) })).status).toBe(401);
    } finally {
      await hashed.kill();
    }
  });

  test('health reports a standby; a turn is 409 not_bootstrapped', async () => {
    const health = await (await fetch(`${rig.agent.url}/health`, { headers: headers() })).json();
    const { standbyCli, ...rest } = health as { standbyCli: string };
    expect(rest).toEqual({ status: 'ok', bootstrapped: false, busy: false, sessionId: null, turn: null, lastTurn: null });
    // The standby's CLI is started at boot, before any claim (standby.ts).
    expect(['starting', 'parked']).toContain(standbyCli);
    const res = await postTurn(rig, 'hi');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('not_bootstrapped');
  });

  test('an invalid bootstrap is 400 and leaves the standby bootstrappable', async () => {
    const bad = { ...bootstrapBody(rig.model), sessionId: 'bad id!', model: { baseUrl: 'nope', apiKey: 'secret-value' } };
    const res = await fetch(`${rig.agent.url}/bootstrap`, { method: 'POST', headers: headers(), body: JSON.stringify(bad) });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('sessionId');
    expect(text).not.toContain('secret-value');
  });

  test('bootstrap once; a second is 409 already_bootstrapped', async () => {
    expect((await bootstrap(rig)).status).toBe(200);
    const again = await bootstrap(rig);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('already_bootstrapped');
    const health = await (await fetch(`${rig.agent.url}/health`, { headers: headers() })).json();
    expect(health).toMatchObject({ bootstrapped: true, busy: false, sessionId: 'sess-1' });
  });
});

describe('turns', () => {
  let first: ParsedFrame[];
  test('a turn streams message frames, transcript frames and exactly one done, ids increasing', async () => {
    first = await turn(rig, 'first prompt');
    expect(first.map((f) => Number(f.id))).toEqual(first.map((_, i) => i + 1));
    expect(messages(first)[0]?.json).toMatchObject({ type: 'system', subtype: 'init' });
    expect(messages(first).some((f) => f.json.type === 'assistant')).toBe(true);
    expect(resultText(first)).toBe('offline model: you said "first prompt" (turn 1; earlier user turns: [])');
    expect(first.filter((f) => f.event === 'transcript').length).toBeGreaterThan(0);
    const ends = terminal(first);
    expect(ends).toHaveLength(1);
    expect(first.at(-1)).toBe(ends[0]);
    expect(ends[0]?.event).toBe('done');
    expect(typeof ends[0]?.json.sdkSessionId).toBe('string');
    // The model saw the session credential from the bootstrap, never anything else.
    expect(mainRequests(rig.model).at(-1)?.headers['x-api-key']).toBe('session-credential-xyz');
  });

  test('a follow-up resumes the SDK session: its model request carries turn one', async () => {
    const second = await turn(rig, 'second prompt');
    expect(terminal(second).map((f) => f.event)).toEqual(['done']);
    expect(terminal(second)[0]?.json.sdkSessionId).toBe(terminal(first)[0]?.json.sdkSessionId);
    const body = mainRequests(rig.model).at(-1)?.body ?? {};
    expect(userPrompts(body)).toEqual(['first prompt', 'second prompt']);
    expect(JSON.stringify(body.messages)).toContain('offline model: you said \\"first prompt\\"');
    expect(resultText(second)).toContain('(turn 2; earlier user turns: ["first prompt"])');
  });

  test('the CLI runs with its own environment: no AGENT_AUTH_TOKEN, session credential, own dirs', async () => {
    // After a turn the server pre-starts the next turn's CLI; that process is the one to inspect
    // (the standby's CLI, which ran the first turn, may still be exiting: it never had an endpoint).
    const withEndpoint = (pid: number): boolean => {
      try {
        return environOf(pid).ANTHROPIC_BASE_URL !== undefined;
      } catch {
        return false;
      }
    };
    const pids = await waitFor('a pre-started CLI', () => { const found = cliPids(rig.agent.child.pid!).filter(withEndpoint); return found.length > 0 ? found : null; });
    expect(pids.length).toBeGreaterThan(0);
    const env = environOf(pids[0]!);
    expect(env.AGENT_AUTH_TOKEN).toBeUndefined();
    expect(Object.values(env).join('\n')).not.toContain('test-agent-token');
    expect(env.ANTHROPIC_API_KEY).toBe('session-credential-xyz');
    expect(env.ANTHROPIC_BASE_URL).toBe(rig.model.url);
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
    expect(env.CLAUDE_CODE_MAX_RETRIES).toBe('1');
    // The tenant is the SessionStore projectKey (the SDK's load() and the CLI's appends agree on it).
    expect(env.CLAUDE_CODE_PROJECT_DIR_NAME).toBe('alice');
    expect(env.BERTH_AGENT_HOST).toBeUndefined();
    for (const dir of ['HOME', 'CLAUDE_CONFIG_DIR', 'TMPDIR']) expect(existsSync(env[dir]!)).toBe(true);
  });

  test('request errors: wrong session 404, bad JSON 400, huge body 413', async () => {
    const wrong = await postTurn(rig, 'x', 'other-session');
    expect(wrong.status).toBe(404);
    expect(((await wrong.json()) as { code: string }).code).toBe('session_not_found');
    const badJson = await fetch(`${rig.agent.url}/sessions/sess-1/messages`, { method: 'POST', headers: headers(), body: '{"prompt":' });
    expect(badJson.status).toBe(400);
    const noPrompt = await fetch(`${rig.agent.url}/sessions/sess-1/messages`, { method: 'POST', headers: headers(), body: '{"text":"x"}' });
    expect(noPrompt.status).toBe(400);
    const huge = await postTurn(rig, 'x'.repeat(300 * 1024));
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toBe('application/problem+json');
  });

  test('a second concurrent turn is 409 turn_in_progress; the first completes', async () => {
    rig.model.script({ kind: 'slow', delayMs: 150 });
    const res = await postTurn(rig, 'slow one');
    const reading = readFrames(res);
    await waitFor('the agent to report busy', async () => ((await (await fetch(`${rig.agent.url}/health`, { headers: headers() })).json()) as { busy: boolean }).busy);
    const second = await postTurn(rig, 'concurrent');
    expect(second.status).toBe(409);
    expect(((await second.json()) as { code: string }).code).toBe('turn_in_progress');
    const frames = await reading;
    expect(terminal(frames).map((f) => f.event)).toEqual(['done']);
  });

  test('Bash tool round-trip: the tool runs in the workspace and its output reaches the model', async () => {
    const frames = await turn(rig, 'please [[bash: echo round-trip > out.txt && cat out.txt]]');
    const toolResult = messages(frames).find((f) => f.json.type === 'user');
    expect(JSON.stringify(toolResult?.json)).toContain('round-trip');
    expect(resultText(frames)).toBe('offline model: the command printed "round-trip"');
    const init = messages(frames)[0]?.json as { cwd: string };
    expect(readFileSync(`${init.cwd}/out.txt`, 'utf8')).toBe('round-trip\n');
  });

  test('a caller disconnect never aborts a turn, even one started without a turn number; the turn ends once, and no CLI is left behind', async () => {
    // Pins design.md's "a caller disconnect detaches, it never aborts": the agent used to abort
    // turns whose POST had no `turn` field when their caller left.
    const controller = new AbortController();
    const res = await postTurn(rig, 'to be abandoned [[slow: 150]]', 'sess-1', controller.signal);
    expect(res.status).toBe(200);
    const requestsBefore = mainRequests(rig.model).length;
    let turnPids: number[] = [];
    const cut = await readFrames(res, (frame) => {
      // Once the model is answering, the CLI running this turn is the agent's only CLI child.
      if (frame.event === 'message' && frame.json.type === 'system' && turnPids.length === 0) {
        void waitFor('the model to be asked', () => mainRequests(rig.model).length > requestsBefore).then(() => {
          turnPids = cliPids(rig.agent.child.pid!);
          controller.abort();
        });
      }
    });
    expect(turnPids.length).toBeGreaterThan(0);
    expect(terminal(cut)).toHaveLength(0);
    const { turn: running } = (await (await fetch(`${rig.agent.url}/health`, { headers: headers() })).json()) as { turn: number | null };
    expect(running).toEqual(expect.any(Number));
    // The re-attach reads the turn to its end: it finished as if its caller had stayed.
    const whole = await readFrames(await fetch(`${rig.agent.url}/sessions/sess-1/turns/${running}/stream`, { headers: headers() }));
    expect(terminal(whole)).toHaveLength(1);
    expect(whole.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'end_turn' } });
    expect(resultText(whole)).toContain('you said "to be abandoned [[slow: 150]]"');
    await waitFor('every CLI of the turn to exit', () => turnPids.every((pid) => !alive(pid)));
    await waitFor('the agent to report idle', async () => !((await (await fetch(`${rig.agent.url}/health`, { headers: headers() })).json()) as { busy: boolean }).busy);
    const next = await turn(rig, 'after the disconnect');
    expect(terminal(next).map((f) => f.event)).toEqual(['done']);
    expect(resultText(next)).toContain('you said "after the disconnect"');
  });
});

describe('profile and egress', () => {
  test('bypassPermissions as root runs tools (IS_SANDBOX=1); with egress set, model calls still go direct (NO_PROXY)', async () => {
    const other = await startRig({}, rig.model);
    try {
      // Nothing listens on port 9: a model call sent through the proxy would fail the turn.
      const egress = { proxyUrl: 'http://berth:cred@127.0.0.1:9', noProxy: ['internal.example'] };
      expect((await bootstrap(other, { profile: { permissionMode: 'bypassPermissions' }, egress })).status).toBe(200);
      const frames = await turn(other, 'go [[bash: echo bypassed > b.txt && cat b.txt]]');
      expect(terminal(frames).map((f) => f.event)).toEqual(['done']);
      expect(resultText(frames)).toBe('offline model: the command printed "bypassed"');
      expect(messages(frames)[0]?.json).toMatchObject({ permissionMode: 'bypassPermissions' });
      const pids = await waitFor('a pre-started CLI', () => { const found = cliPids(other.agent.child.pid!); return found.length > 0 ? found : null; });
      const env = environOf(pids[0]!);
      expect(env.IS_SANDBOX).toBe('1');
      for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) expect(env[name]).toBe(egress.proxyUrl);
      expect(env.NO_PROXY).toBe('127.0.0.1,internal.example');
      expect(env.no_proxy).toBe('127.0.0.1,internal.example');
    } finally {
      await stopRig(other, false);
    }
  });
});
