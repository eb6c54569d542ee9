// The whole stack end to end (issue: berth on one machine): caller → gateway → local warm pool →
// agent server → real Agent SDK + CLI → egress gateway → offline model. Pins the caller contract
// of design.md: statuses, problem bodies, SSE frames with ids and exactly one terminal frame.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROBLEM_TYPE_BASE } from '@berth/protocol';
import { authHeaders, resultText, sendMessage, startTestStack, terminalFrames, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let s: TestStack;

beforeAll(async () => {
  s = await startTestStack({ poolSize: 2 });
  await waitFor('two ready standbys', async () => (await pool()).ready === 2);
});
afterAll(async () => s?.stop());

async function pool(): Promise<{ ready: number; warmClaims: number; coldStarts: number; target: number }> {
  const res = await fetch(`${s.url}/api/pool`, { headers: authHeaders(s.tokens.alice) });
  return ((await res.json()) as { pools: Array<{ ready: number; warmClaims: number; coldStarts: number; target: number }> }).pools[0]!;
}

describe('caller journey', () => {
  test('the first message creates the session, streams SDK messages with ids, and ends with one done', async () => {
    const turn = await sendMessage(s.url, 'journey-1', 'hello there', { token: s.tokens.alice });
    expect(turn.status).toBe(200);
    expect(turn.contentType).toMatch(/^text\/event-stream/);
    expect(turn.frames.length).toBeGreaterThan(2);
    expect(turn.frames.every((f) => f.id !== undefined && /^1:\d+$/.test(f.id))).toBe(true);
    expect(terminalFrames(turn)).toHaveLength(1);
    expect(turn.frames.at(-1)!.event).toBe('done');
    expect(turn.frames.some((f) => f.event === 'transcript')).toBe(false);
    const types = turn.frames.filter((f) => f.event === 'message').map((f) => (JSON.parse(f.data) as { type: string }).type);
    expect(types).toContain('assistant');
    expect(types.at(-1)).toBe('result');
    expect(resultText(turn)).toContain('you said "hello there"');

    const view = await (await fetch(`${s.url}/sessions/journey-1`, { headers: authHeaders(s.tokens.alice) })).json();
    expect(view).toMatchObject({ id: 'journey-1', tenant: 'alice', turns: 1 });
    expect(JSON.stringify(view)).not.toContain('authToken');
  });

  test("the follow-up's request to the model carries turn one", async () => {
    await sendMessage(s.url, 'journey-2', 'remember the word kestrel', { token: s.tokens.alice });
    const before = s.model.requests.length;
    const turn = await sendMessage(s.url, 'journey-2', 'what was the word?', { token: s.tokens.alice });
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
    expect(resultText(turn)).toContain('earlier user turns: ["remember the word kestrel"]');
    const request = s.model.requests.slice(before).find((r) => r.kind === 'main')!;
    expect(JSON.stringify(request.body)).toContain('remember the word kestrel');
    // The model saw the real key, swapped in by the egress gateway; never the session credential.
    expect(request.headers['x-api-key']).toBe('sk-ant-real-key-for-tests');
  });

  test('GET /sessions lists only the caller\'s sessions', async () => {
    await sendMessage(s.url, 'bobs-own', 'hi', { token: s.tokens.bob });
    const alice = (await (await fetch(`${s.url}/sessions`, { headers: authHeaders(s.tokens.alice) })).json()) as { sessions: Array<{ id: string }> };
    const bob = (await (await fetch(`${s.url}/sessions`, { headers: authHeaders(s.tokens.bob) })).json()) as { sessions: Array<{ id: string }> };
    expect(alice.sessions.map((x) => x.id)).toContain('journey-1');
    expect(alice.sessions.map((x) => x.id)).not.toContain('bobs-own');
    expect(bob.sessions.map((x) => x.id)).toEqual(['bobs-own']);
  });

  test('a Bash tool round-trip runs the command in the sandbox and feeds the result back', async () => {
    const turn = await sendMessage(s.url, 'journey-bash', 'please run [[bash: echo berth-$((20+22))]]', { token: s.tokens.alice });
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
    const messages = turn.frames.filter((f) => f.event === 'message').map((f) => f.data);
    expect(messages.some((m) => m.includes('"tool_use"') && m.includes('Bash'))).toBe(true);
    expect(messages.some((m) => m.includes('"tool_result"') && m.includes('berth-42'))).toBe(true);
  });
});

describe('problems', () => {
  test('another tenant gets 403 on the session, as problem+json with a stable type', async () => {
    await sendMessage(s.url, 'alice-private', 'hi', { token: s.tokens.alice });
    const turn = await sendMessage(s.url, 'alice-private', 'let me in', { token: s.tokens.bob });
    expect(turn.status).toBe(403);
    expect(turn.contentType).toMatch(/^application\/problem\+json/);
    expect(turn.problem).toMatchObject({ code: 'forbidden', status: 403, type: `${PROBLEM_TYPE_BASE}forbidden` });
    const get = await fetch(`${s.url}/sessions/alice-private`, { headers: authHeaders(s.tokens.bob) });
    expect(get.status).toBe(403);
  });

  test('no token and a wrong token get 401', async () => {
    expect((await sendMessage(s.url, 'x1', 'hi')).status).toBe(401);
    const wrong = await sendMessage(s.url, 'x1', 'hi', { token: 'berth_not_a_real_token' });
    expect(wrong.status).toBe(401);
    expect(wrong.problem?.code).toBe('unauthenticated');
  });

  test('a bad session id gets 400', async () => {
    for (const id of ['-starts-with-dash', 'a'.repeat(65), 'has%20space']) {
      const turn = await sendMessage(s.url, id, 'hi', { token: s.tokens.alice });
      expect(turn.status, id).toBe(400);
      expect(turn.problem?.code).toBe('invalid_session_id');
    }
  });

  test('a bad body gets 400 and an oversized body 413', async () => {
    const bad = await sendMessage(s.url, 'x2', '', { token: s.tokens.alice, body: '{"prompt": 42}' });
    expect(bad.status).toBe(400);
    expect(bad.problem?.code).toBe('invalid_body');
    const notJson = await sendMessage(s.url, 'x2', '', { token: s.tokens.alice, body: 'prompt=hi' });
    expect(notJson.status).toBe(400);
    const big = await sendMessage(s.url, 'x2', 'x'.repeat(300 * 1024), { token: s.tokens.alice });
    expect(big.status).toBe(413);
    expect(big.problem?.code).toBe('payload_too_large');
  });

  test('an oversized request head gets 431', async () => {
    const res = await fetch(`${s.url}/sessions`, { headers: { ...authHeaders(s.tokens.alice), 'x-junk': 'j'.repeat(20_000) } });
    expect(res.status).toBe(431);
  });

  test('a second concurrent turn on one session gets 409', async () => {
    await sendMessage(s.url, 'busy-1', 'warm up', { token: s.tokens.alice });
    s.model.script({ kind: 'slow', delayMs: 400 });
    let firstFrame!: () => void;
    const started = new Promise<void>((resolve) => (firstFrame = resolve));
    const running = sendMessage(s.url, 'busy-1', 'slow one', { token: s.tokens.alice, onFrame: () => firstFrame() });
    await started;
    const second = await sendMessage(s.url, 'busy-1', 'me too', { token: s.tokens.alice });
    expect(second.status).toBe(409);
    expect(second.problem?.code).toBe('turn_in_progress');
    expect(terminalFrames(await running).map((f) => f.event)).toEqual(['done']);
  });

  test('DELETE then GET is 404; DELETE of an absent id is a 200 no-op', async () => {
    await sendMessage(s.url, 'doomed', 'hi', { token: s.tokens.alice });
    const del = await fetch(`${s.url}/sessions/doomed`, { method: 'DELETE', headers: authHeaders(s.tokens.alice) });
    expect(del.status).toBe(200);
    expect(await del.json()).toEqual({ id: 'doomed', deleted: true, status: 'deleted' });
    const get = await fetch(`${s.url}/sessions/doomed`, { headers: authHeaders(s.tokens.alice) });
    expect(get.status).toBe(404);
    const again = await fetch(`${s.url}/sessions/never-was`, { method: 'DELETE', headers: authHeaders(s.tokens.alice) });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: 'never-was', deleted: false, status: 'deleted' });
  });

  test('unknown routes answer problem+json 404', async () => {
    const res = await fetch(`${s.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});

describe('streams', () => {
  test('a caller disconnect aborts the turn, and the next turn works', async () => {
    await sendMessage(s.url, 'hangup', 'warm up', { token: s.tokens.alice });
    s.model.script({ kind: 'slow', delayMs: 1500 });
    const abort = new AbortController();
    const cut = await sendMessage(s.url, 'hangup', 'long answer please', { token: s.tokens.alice, signal: abort.signal, onFrame: () => abort.abort() });
    expect(terminalFrames(cut)).toHaveLength(0);
    // The agent is free again quickly: the next turn is not refused as busy and completes.
    // The agent stops the aborted turn's CLI (stdin close, then a kill after a grace), so the
    // session may answer 409 for a moment; it must free up, however loaded the machine is.
    let next;
    const deadline = Date.now() + 45_000;
    do {
      next = await sendMessage(s.url, 'hangup', 'are you there?', { token: s.tokens.alice });
      if (next.status !== 409) break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    expect(next!.status).toBe(200);
    expect(terminalFrames(next!).map((f) => f.event)).toEqual(['done']);
    expect(resultText(next!)).toContain('are you there?');
  }, 120_000);

  test.each([
    ['429', { kind: 'status', status: 429 } as const],
    ['529', { kind: 'status', status: 529 } as const],
    ['a cut stream', { kind: 'cut' } as const],
  ])('a model failure (%s) ends the stream with exactly one terminal frame', async (_name, reply) => {
    // BERTH_AGENT_MAX_RETRIES=1: the CLI retries once, so two failures exhaust it.
    s.model.script(reply, reply);
    const turn = await sendMessage(s.url, `fail-${_name.replace(/\W/g, '')}`, 'this will fail', { token: s.tokens.alice });
    expect(turn.status).toBe(200);
    const terminal = terminalFrames(turn);
    expect(terminal).toHaveLength(1);
    expect(turn.frames.at(-1)).toBe(terminal[0]);
    if (terminal[0]!.event === 'error') expect(JSON.parse(terminal[0]!.data)).toHaveProperty('message');
    else expect(resultText(turn).length).toBeGreaterThan(0);
  });
});

describe('warm pool', () => {
  test('claims are served from the warm pool and the pool refills', async () => {
    const before = await pool();
    await sendMessage(s.url, 'pool-1', 'hi', { token: s.tokens.alice });
    const after = await pool();
    expect(after.warmClaims).toBe(before.warmClaims + 1);
    expect(after.coldStarts).toBe(before.coldStarts);
    await waitFor('the pool back at its target', async () => (await pool()).ready === after.target);
  });
});
