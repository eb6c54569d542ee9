// Durable conversations and resumable streams through one whole stack over Redis (issue: Redis
// route store, durable conversations, resumable streams). Pins: an agent process SIGKILLed
// mid-stream ends the caller's stream with one `event: error` and the next message resumes on a
// fresh sandbox with the whole history (transcript frames stored, bootstrap hands them over);
// a connection resuming with Last-Event-ID gets every frame exactly once, and a caller that
// dropped (the turn runs on, detached) gets the rest and one terminal frame, never an endless tail;
// the idle reaper releases idle sandboxes (next message resumes from the store) but never a
// streaming one.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SseFrame } from '@berth/protocol';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
// The offline model's `slow` reply waits delayMs after each of its ~8 stream events, so a reply
// lasts about 8 × delayMs.
import { authHeaders, collect, resultText, sendMessage, startTestStack, terminalFrames, TEST_TOKENS, type TestStack, type Turn } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let redis: RedisServer;
let s: TestStack;
const alice = TEST_TOKENS.alice;

beforeAll(async () => {
  redis = await startRedisServer();
  // 10 s is the smallest idle timeout config accepts; the reaper test waits it out once and ticks
  // the reaper itself. The reaper's own ticks are an hour apart: on a loaded machine a step of
  // another test here can take 10 s, and a tick then would reap that test's session mid-test.
  s = await startTestStack({ redisUrl: redis.url, poolSize: 2, env: { BERTH_IDLE_TIMEOUT_S: '10' }, reaperIntervalMs: 3_600_000 });
  await waitFor('two ready standbys', async () => (await pool()).ready === 2);
});

afterAll(async () => {
  await s?.stop();
  await redis?.stop();
});

async function pool(): Promise<{ ready: number; claimed: number }> {
  const res = await fetch(`${s.url}/api/pool`, { headers: authHeaders(alice) });
  return ((await res.json()) as { pools: Array<{ ready: number; claimed: number }> }).pools[0]!;
}

/**
 * The sandbox's own process: the one listening on its loopback port (the agent server), or, for
 * an isolated sandbox, whose port is the gateway's own bridge, its jail (from the state dir).
 */
function pidListeningOn(url: string, sandboxId: string): number {
  const port = new URL(url).port;
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`no process listens on port ${port}: ${out}`);
  if (Number(pid) !== process.pid) return Number(pid);
  const owner = JSON.parse(readFileSync(path.join(os.tmpdir(), 'berth-sandboxes', sandboxId, 'owner.json'), 'utf8')) as { jailPid: number };
  return owner.jailPid;
}

/**
 * A whole turn as callers see it: the `turn` frame `<turn>:0` first, then frames `<turn>:<seq>`
 * with strictly growing seq (the agent's numbering; transcript frames never reach callers), and
 * exactly one terminal frame, last.
 */
function expectWholeStream(frames: SseFrame[], turn: number): void {
  expect(frames[0]).toMatchObject({ id: `${turn}:0`, event: 'turn' });
  const seqs = frames.map((f) => {
    const [t, seq] = f.id!.split(':').map(Number);
    expect(t).toBe(turn);
    return seq!;
  });
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
  expect(frames.filter((f) => f.event === 'done' || f.event === 'error')).toHaveLength(1);
  expect(['done', 'error']).toContain(frames.at(-1)!.event);
}

describe('durable conversations', () => {
  test('an agent SIGKILLed mid-stream: one event: error soon after, then the next message resumes on a fresh sandbox with the history', async () => {
    const id = 'crash-1';
    const first = await sendMessage(s.url, id, 'remember the word heron', { token: alice });
    expect(terminalFrames(first).map((f) => f.event)).toEqual(['done']);
    const before = (await s.stack.store.sessions.getSession(id))!;
    expect(before.sdkSessionId).not.toBeNull();
    const pid = pidListeningOn(before.sandbox!.url, before.sandbox!.sandboxId);

    // Slow by its own prompt (the offline model's `[[slow: ms]]`), not by the shared script: the
    // agent dies at the first frame, mostly before it asks the model, and a scripted reply left
    // unused would make the resumed turn below wait ~8 s for it instead.
    let killedAt = 0;
    let terminalAt = 0;
    const turn = await sendMessage(s.url, id, 'a long answer please [[slow: 1000]]', {
      token: alice,
      onFrame: (frame) => {
        if (killedAt === 0) {
          killedAt = performance.now();
          process.kill(pid, 'SIGKILL');
        }
        if (frame.event === 'done' || frame.event === 'error') terminalAt = performance.now();
      },
    });
    expect(killedAt).toBeGreaterThan(0);
    expect(turn.status).toBe(200);
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['error']);
    expect(turn.frames.at(-1)!.event).toBe('error');
    // It is the connection reset, not a timeout, that ends the stream: the relay reports a
    // sandbox that stopped answering mid-turn. (How soon is measured, never asserted.)
    expect(JSON.parse(turn.frames.at(-1)!.data).message).toMatch(/sandbox stopped answering mid-turn/);
    const errorAfterMs = Math.round(terminalAt - killedAt);
    console.log(JSON.stringify({ metric: 'sigkill_to_error_frame_ms', value: errorAfterMs }));
    // The lost sandbox is forgotten (just after the error frame went out), so the next message
    // re-provisions.
    await waitFor('the lost sandbox to be forgotten', async () => (await s.stack.store.sessions.getSession(id))!.sandbox === null);

    const requestsBefore = s.model.requests.length;
    const next = await sendMessage(s.url, id, 'what was the word?', { token: alice });
    expect(next.status).toBe(200);
    expect(terminalFrames(next).map((f) => f.event)).toEqual(['done']);
    const after = (await s.stack.store.sessions.getSession(id))!;
    expect(after.sandbox!.sandboxId).not.toBe(before.sandbox!.sandboxId);
    expect(after.turns).toBe(3);
    // The model request of the resumed turn carries turn one: the fresh sandbox got the stored
    // transcript at bootstrap and the SDK resumed from it.
    const request = s.model.requests.slice(requestsBefore).find((r) => r.kind === 'main')!;
    expect(JSON.stringify(request.body)).toContain('remember the word heron');
    expect(resultText(next)).toContain('remember the word heron');
  });
});

describe('resumable streams', () => {
  test('a second connection resuming with Last-Event-ID mid-turn gets the rest of the live turn exactly once', async () => {
    const id = 'resume-1';
    await sendMessage(s.url, id, 'warm up', { token: alice });
    s.model.script({ kind: 'slow', delayMs: 300 });
    let resumed!: Promise<Turn>;
    const whole = await sendMessage(s.url, id, 'tell me a story', {
      token: alice,
      onFrame: (frame) => {
        // As if this connection had dropped right after its first frame: resume from there.
        resumed ??= collect(`${s.url}/sessions/${id}/stream`, { headers: { ...authHeaders(alice), 'last-event-id': frame.id! } });
      },
    });
    const rest = await resumed;
    expect(rest.status).toBe(200);
    expectWholeStream(whole.frames, 2);
    expect(whole.frames.at(-1)!.event).toBe('done');
    expect(whole.frames.length).toBeGreaterThan(2);
    // First frame from the first connection + everything from the second = the whole stream.
    const union = [whole.frames[0]!, ...rest.frames];
    expect(union.map((f) => [f.id, f.event, f.data])).toEqual(whole.frames.map((f) => [f.id, f.event, f.data]));
  });

  test('a caller that drops mid-turn and reconnects with Last-Event-ID gets every frame once and one terminal frame: the turn ran on to done', async () => {
    const id = 'resume-2';
    await sendMessage(s.url, id, 'warm up', { token: alice });
    s.model.script({ kind: 'slow', delayMs: 300 });
    const abort = new AbortController();
    // Cut right after the first SDK message (the `turn` frame came before it).
    const cut = await sendMessage(s.url, id, 'tell me a story', { token: alice, signal: abort.signal, onFrame: (f) => f.event === 'message' && abort.abort() });
    expect(cut.frames.map((f) => f.event)).toEqual(['turn', 'message']);

    // GET /stream and a retried POST with the header both resume; neither starts a turn.
    const lastId = cut.frames.at(-1)!.id!;
    const viaGet = await collect(`${s.url}/sessions/${id}/stream`, { headers: { ...authHeaders(alice), 'last-event-id': lastId } });
    const viaPost = await sendMessage(s.url, id, 'tell me a story', { token: alice, headers: { 'last-event-id': lastId } });
    for (const rest of [viaGet, viaPost]) {
      expect(rest.status).toBe(200);
      const union = [...cut.frames, ...rest.frames];
      expectWholeStream(union, 2);
      // A disconnect never aborts the turn: it ran to its end.
      expect(union.at(-1)!.event).toBe('done');
      expect(JSON.parse(union.at(-1)!.data)).toMatchObject({ turn: 2, stopReason: 'end_turn' });
    }
    expect(viaPost.frames.map((f) => f.id)).toEqual(viaGet.frames.map((f) => f.id));
    expect((await s.stack.store.sessions.getSession(id))!.turns).toBe(2);
  });

  test('an unknown Last-Event-ID gets one event: error', async () => {
    await sendMessage(s.url, 'resume-3', 'hi', { token: alice });
    for (const lastId of ['99:1', 'garbage']) {
      const turn = await collect(`${s.url}/sessions/resume-3/stream`, { headers: { ...authHeaders(alice), 'last-event-id': lastId } });
      expect(turn.status).toBe(200);
      expect(turn.frames).toHaveLength(1);
      expect(turn.frames[0]!.event).toBe('error');
      expect(JSON.parse(turn.frames[0]!.data)).toMatchObject({ code: 'replay_gap' });
    }
  });
});

describe('idle reaping', () => {
  test('an idle session is reaped and resumes from the store; a streaming one is not reaped', async () => {
    await sendMessage(s.url, 'idle-1', 'remember the word plover', { token: alice });
    await sendMessage(s.url, 'busy-2', 'warm up', { token: alice });
    const idleSandbox = (await s.stack.store.sessions.getSession('idle-1'))!.sandbox!;
    const busySandbox = (await s.stack.store.sessions.getSession('busy-2'))!.sandbox!;

    // busy-2 streams for longer than the idle timeout (the offline model waits delayMs after each
    // of its ~8 stream events: ~14 s); its last explicit activity is the turn's start.
    s.model.script({ kind: 'slow', delayMs: 1800 });
    const started = Date.now();
    const streaming = sendMessage(s.url, 'busy-2', 'a very long answer', { token: alice });
    // Wait past the 10 s idle timeout (plus a margin) for both sessions, then reap.
    await new Promise((r) => setTimeout(r, 11_500 - (Date.now() - started)));
    await s.stack.gateway!.reaper.tick();

    const idle = (await s.stack.store.sessions.getSession('idle-1'))!;
    expect(idle.sandbox).toBeNull();
    const busy = (await s.stack.store.sessions.getSession('busy-2'))!;
    expect(busy.sandbox?.sandboxId).toBe(busySandbox.sandboxId);
    const turn = await streaming;
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);

    const requestsBefore = s.model.requests.length;
    const next = await sendMessage(s.url, 'idle-1', 'what was the word?', { token: alice });
    expect(terminalFrames(next).map((f) => f.event)).toEqual(['done']);
    expect((await s.stack.store.sessions.getSession('idle-1'))!.sandbox!.sandboxId).not.toBe(idleSandbox.sandboxId);
    const request = s.model.requests.slice(requestsBefore).find((r) => r.kind === 'main')!;
    expect(JSON.stringify(request.body)).toContain('remember the word plover');
  }, 180_000); // ~14 s of streaming by design, then a resume on a fresh sandbox; slow on a loaded machine
});
