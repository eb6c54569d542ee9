// The whole stack end to end (issue: berth on one machine): caller → gateway → local warm pool →
// agent server → real Agent SDK + CLI → egress gateway → offline model. The journey every backend
// shares (warm claim and refill, follow-ups, 403/401, Bash, DELETE, resume after a crash) runs
// from contracts/gateway-journey-contract.ts in gateway-journey.test.ts; this file pins the rest
// of design.md's caller contract on the local stack: frame ids, listing, 400/401/404/409/413/431
// problems, caller disconnects and model faults.

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
  test('every frame carries a resumable id, no transcript frame reaches the caller, and the session view holds no secret', async () => {
    const turn = await sendMessage(s.url, 'journey-1', 'hello there', { token: s.tokens.alice });
    expect(turn.status).toBe(200);
    expect(turn.frames.length).toBeGreaterThan(2);
    expect(turn.frames.every((f) => f.id !== undefined && /^1:\d+$/.test(f.id))).toBe(true);
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
    expect(turn.frames.some((f) => f.event === 'transcript')).toBe(false);

    const view = await (await fetch(`${s.url}/sessions/journey-1`, { headers: authHeaders(s.tokens.alice) })).json();
    expect(view).toMatchObject({ id: 'journey-1', tenant: 'alice', turns: 1 });
    expect(JSON.stringify(view)).not.toContain('authToken');
  });

  test('GET /sessions lists only the caller\'s sessions', async () => {
    await sendMessage(s.url, 'bobs-own', 'hi', { token: s.tokens.bob });
    const alice = (await (await fetch(`${s.url}/sessions`, { headers: authHeaders(s.tokens.alice) })).json()) as { sessions: Array<{ id: string }> };
    const bob = (await (await fetch(`${s.url}/sessions`, { headers: authHeaders(s.tokens.bob) })).json()) as { sessions: Array<{ id: string }> };
    expect(alice.sessions.map((x) => x.id)).toContain('journey-1');
    expect(alice.sessions.map((x) => x.id)).not.toContain('bobs-own');
    expect(bob.sessions.map((x) => x.id)).toEqual(['bobs-own']);
  });
});

describe('problems', () => {
  test('a wrong token gets 401 as problem+json with a stable type', async () => {
    const wrong = await sendMessage(s.url, 'x1', 'hi', { token: 'berth_not_a_real_token' });
    expect(wrong.status).toBe(401);
    expect(wrong.contentType).toMatch(/^application\/problem\+json/);
    expect(wrong.problem).toMatchObject({ code: 'unauthenticated', status: 401, type: `${PROBLEM_TYPE_BASE}unauthenticated` });
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

  test('DELETE of an absent id is a 200 no-op', async () => {
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
    // ~8 × 300 ms: the cut comes at the first frame, long before the reply ends; the next turn
    // below waits out the rest of it (the turn runs on detached), so a longer reply costs only time.
    s.model.script({ kind: 'slow', delayMs: 300 });
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
