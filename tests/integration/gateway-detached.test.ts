// Sessions that outlive the connection (issue 13), with injected faults, through whole stacks and
// the real Agent SDK against the offline model: a caller cut at the first frame, mid-turn or
// after the last message never stops its turn, GET /sessions/{id}/events returns all of it, and
// after a sandbox kill the next turn's model request carries every earlier turn exactly once (the
// offline model echoes the earlier user turns it was sent); `?follow=1` tails on across turns; a
// standard EventSource client (the `eventsource` package) reconnects across a cut and stops at
// the end (204); on Redis with two
// replicas, a replica killed mid-turn still ends its readers' streams with exactly one terminal
// frame (taken over by the other replica), and the session status follows the turn.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EventSource } from 'eventsource';
import type { SseFrame } from '@berth/protocol';
import { waitFor } from '../fixtures/wait-for.js';
import { startReplicaPair, type ReplicaPair } from '../fixtures/replicas.js';
import { authHeaders, collect, NO_PRESTART, resultText, sendMessage, startTestStack, TEST_TOKENS, type TestStack } from '../fixtures/stack.js';

const alice = TEST_TOKENS.alice;

function isTerminal(frame: { event?: string }): boolean {
  return frame.event === 'done' || frame.event === 'error';
}

/** One turn as stored: `turn` frame first, growing seq, exactly one terminal frame, last. */
function expectWholeTurn(frames: SseFrame[], turn: number): void {
  expect(frames[0]).toMatchObject({ id: `${turn}:0`, event: 'turn' });
  const seqs = frames.map((f) => Number(f.id!.split(':')[1]));
  expect(frames.every((f) => f.id!.startsWith(`${turn}:`))).toBe(true);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
  expect(frames.filter(isTerminal)).toHaveLength(1);
  expect(isTerminal(frames.at(-1)!)).toBe(true);
}

async function sessionView(url: string, id: string): Promise<{ status: string; currentTurn: number | null; lastStopReason: string | null; turns: number }> {
  const res = await fetch(`${url}/sessions/${id}`, { headers: authHeaders(alice) });
  return (await res.json()) as { status: string; currentTurn: number | null; lastStopReason: string | null; turns: number };
}

/** The earlier user turns the offline model says it was sent (its echo lists them as JSON). */
function earlierTurns(text: string): string[] {
  const match = /earlier user turns: (\[.*\])\)/.exec(text);
  if (!match) throw new Error(`no echo of earlier turns in ${JSON.stringify(text.slice(0, 300))}`);
  return JSON.parse(match[1]!) as string[];
}

type Cut = 'first frame' | 'mid-turn' | 'after the last message';

const cuts: Array<[Cut, (frame: SseFrame) => boolean]> = [
  ['first frame', (frame) => frame.event === 'turn'],
  ['mid-turn', (frame) => frame.event === 'message'],
  ['after the last message', (frame) => frame.event === 'message' && (JSON.parse(frame.data) as { type?: string }).type === 'result'],
];

describe('detached turns on the in-process store', () => {
  let s: TestStack;
  beforeAll(async () => {
    s = await startTestStack({ poolSize: 2, agentEnv: { ...NO_PRESTART } });
  });
  afterAll(async () => {
    await s?.stop();
  });

  test.each(cuts)('a caller cut at the %s: the turn finishes, GET /events returns all of it, and a fresh sandbox resumes with every turn once', async (name, cutWhen) => {
    const id = `cut-${name.replace(/ /g, '-')}`;
    const first = await sendMessage(s.url, id, `${id} one`, { token: alice });
    expect(first.frames.at(-1)!.event).toBe('done');

    s.model.script({ kind: 'slow', delayMs: 200 });
    const abort = new AbortController();
    const cut = await sendMessage(s.url, id, `${id} two`, { token: alice, signal: abort.signal, onFrame: (frame) => cutWhen(frame) && abort.abort() });
    expect(cut.status).toBe(200);
    expect(cut.frames[0]).toMatchObject({ id: '2:0', event: 'turn' });
    expect(cut.frames.filter(isTerminal)).toHaveLength(0);

    await waitFor(`session ${id} idle after turn 2`, async () => (await sessionView(s.url, id)).status === 'idle');
    expect(await sessionView(s.url, id)).toMatchObject({ status: 'idle', currentTurn: null, lastStopReason: 'end_turn', turns: 2 });

    // No Last-Event-ID: the last turn from its `turn` frame to its terminal frame.
    const events = await collect(`${s.url}/sessions/${id}/events`, { headers: authHeaders(alice) });
    expect(events.status).toBe(200);
    expectWholeTurn(events.frames, 2);
    expect(events.frames.at(-1)!.event).toBe('done');
    expect(events.frames.slice(0, cut.frames.length).map((f) => f.id)).toEqual(cut.frames.map((f) => f.id));
    expect(resultText(events)).toContain(`${id} two`);
    // Past the terminal frame there is nothing more: 204, the EventSource "stop".
    const past = await fetch(`${s.url}/sessions/${id}/events`, { headers: { ...authHeaders(alice), 'last-event-id': events.frames.at(-1)!.id! } });
    expect(past.status).toBe(204);

    // The sandbox dies; the next turn runs on a fresh one from the stored transcript.
    await s.stack.backend!.release(id);
    const third = await sendMessage(s.url, id, `${id} three`, { token: alice });
    expect(third.frames.at(-1)!.event).toBe('done');
    expect(earlierTurns(resultText(third))).toEqual([`${id} one`, `${id} two`]);
  });

  test('GET /events?format=json pages the history; an id out of the log is 410 replay_gap', async () => {
    const id = 'paged-1';
    await sendMessage(s.url, id, 'one', { token: alice });
    await sendMessage(s.url, id, 'two', { token: alice });
    const all: Array<{ id: string; event: string }> = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res = await fetch(`${s.url}/sessions/${id}/events?format=json&limit=3${after ? `&after=${after}` : ''}`, { headers: authHeaders(alice) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { events: Array<{ id: string; event: string }>; nextAfter: string | null };
      if (body.events.length === 0) break;
      expect(body.events.length).toBeLessThanOrEqual(3);
      all.push(...body.events);
      after = body.nextAfter;
    }
    expect(all.filter((e) => e.event === 'turn').map((e) => e.id)).toEqual(['1:0', '2:0']);
    expect(all.filter((e) => e.event === 'done')).toHaveLength(2);
    const gap = await fetch(`${s.url}/sessions/${id}/events?format=json&after=99:1`, { headers: authHeaders(alice) });
    expect(gap.status).toBe(410);
    expect(await gap.json()).toMatchObject({ code: 'replay_gap' });
  });

  test('GET /events?follow=1 keeps tailing across turns: one stream carries turn 1 and then turn 2, each whole', async () => {
    const id = 'follow-1';
    const first = await sendMessage(s.url, id, 'first of two', { token: alice });
    expect(first.frames.at(-1)!.event).toBe('done');

    const abort = new AbortController();
    const seen: SseFrame[] = [];
    const tail = collect(`${s.url}/sessions/${id}/events?follow=1`, { headers: authHeaders(alice), signal: abort.signal }, (frame) => seen.push(frame));
    // Turn 1's terminal frame does not end a follow tail.
    await waitFor('the follow tail to replay turn 1 to its end', () => seen.some((f) => f.id?.startsWith('1:') && isTerminal(f)));
    const second = await sendMessage(s.url, id, 'second of two', { token: alice });
    expect(second.frames.at(-1)!.event).toBe('done');
    await waitFor('the follow tail to reach turn 2\'s terminal frame', () => seen.some((f) => f.id?.startsWith('2:') && isTerminal(f)));
    abort.abort();
    const followed = await tail;
    expect(followed.status).toBe(200);

    const turn1 = followed.frames.filter((f) => f.id?.startsWith('1:'));
    const turn2 = followed.frames.filter((f) => f.id?.startsWith('2:'));
    expect(followed.frames.map((f) => f.id)).toEqual([...turn1, ...turn2].map((f) => f.id));
    expectWholeTurn(turn1, 1);
    expectWholeTurn(turn2, 2);
    expect(turn1.map((f) => f.id)).toEqual(first.frames.map((f) => f.id));
    // Turn 2 reached the tail live, frame for frame as its own POST streamed it.
    expect(turn2.map((f) => [f.id, f.event, f.data])).toEqual(second.frames.map((f) => [f.id, f.event, f.data]));
    expect(resultText({ ...followed, frames: turn2 })).toContain('second of two');
  });

  test('the eventsource client reconnects across a cut with Last-Event-ID and stops cleanly at the end (204)', async () => {
    const id = 'es-1';
    await sendMessage(s.url, id, 'warm up', { token: alice });
    s.model.script({ kind: 'slow', delayMs: 300 });
    let started!: () => void;
    const turnStarted = new Promise<void>((resolve) => (started = resolve));
    // Its connection is cut too (the turn runs on regardless): its outcome is not what is tested.
    const post = sendMessage(s.url, id, 'a long story', { token: alice, onFrame: (f) => f.event === 'turn' && started() }).catch(() => undefined);
    await turnStarted;

    const received: Array<{ id: string; event: string }> = [];
    let opens = 0;
    let cutDone = false;
    const es = new EventSource(`${s.url}/sessions/${id}/events`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...authHeaders(alice) } }),
    });
    es.onopen = () => opens++;
    for (const event of ['turn', 'message', 'done', 'error']) {
      es.addEventListener(event, (e) => {
        // The client reports its own connection failures as `error` events too: only frames count.
        if (typeof (e as MessageEvent).data !== 'string') return;
        received.push({ id: (e as MessageEvent).lastEventId, event });
        if (event === 'message' && !cutDone) {
          cutDone = true;
          // Cut every connection of the gateway (this client's and the POST's alike).
          s.stack.gateway!.server.closeAllConnections();
        }
      });
    }
    try {
      await waitFor('the EventSource to stop after the turn ended (204)', () => es.readyState === es.CLOSED, { timeoutMs: 45_000 });
    } finally {
      es.close();
    }
    await post;
    expect(cutDone).toBe(true);
    expect(opens).toBeGreaterThanOrEqual(2);
    const ids = received.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(received[0]).toEqual({ id: '2:0', event: 'turn' });
    expect(received.filter((r) => r.event === 'done' || r.event === 'error')).toEqual([{ id: received.at(-1)!.id, event: 'done' }]);
    const seqs = ids.map((i) => Number(i.split(':')[1]));
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
  });

  test('POST /interrupt stops a long turn: its stream ends with one terminal frame saying interrupted, and the session is idle', async () => {
    const id = 'interrupt-1';
    await sendMessage(s.url, id, 'warm up', { token: alice });
    // Slow by its own prompt (the offline model's `[[slow: ms]]`), not by the shared script: the
    // interrupt may land before the model is asked at all (the first message is the CLI's init),
    // and a scripted reply left unused would slow the next test's turn by ~16 s instead.
    let started!: () => void;
    const turnStarted = new Promise<void>((resolve) => (started = resolve));
    const turn = sendMessage(s.url, id, 'a very long answer [[slow: 2000]]', { token: alice, onFrame: (f) => f.event === 'message' && started() });
    await turnStarted;
    const res = await fetch(`${s.url}/sessions/${id}/interrupt`, { method: 'POST', headers: authHeaders(alice) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ interrupted: true });
    const ended = await turn;
    expect(ended.frames.filter(isTerminal)).toHaveLength(1);
    expect(JSON.parse(ended.frames.at(-1)!.data)).toMatchObject({ stopReason: 'interrupted' });
    await waitFor(`session ${id} idle after the interrupt`, async () => (await sessionView(s.url, id)).status === 'idle');
    expect((await sessionView(s.url, id)).lastStopReason).toBe('interrupted');
  });

  test('interrupt of an idle session is a 200 no-op; approvals for an unknown request are 404 approval_not_found; another tenant gets 403', async () => {
    const id = 'ctl-1';
    await sendMessage(s.url, id, 'hello', { token: alice });
    const interrupt = await fetch(`${s.url}/sessions/${id}/interrupt`, { method: 'POST', headers: authHeaders(alice) });
    expect(interrupt.status).toBe(200);
    expect(await interrupt.json()).toEqual({ interrupted: false });
    const approval = await fetch(`${s.url}/sessions/${id}/approvals/req-1`, { method: 'POST', headers: authHeaders(alice), body: JSON.stringify({ decision: 'allow' }) });
    expect(approval.status).toBe(404);
    expect(await approval.json()).toMatchObject({ code: 'approval_not_found' });
    const bad = await fetch(`${s.url}/sessions/${id}/approvals/req-1`, { method: 'POST', headers: authHeaders(alice), body: JSON.stringify({ decision: 'maybe' }) });
    expect(bad.status).toBe(400);
    for (const path of ['interrupt', 'approvals/req-1']) {
      const other = await fetch(`${s.url}/sessions/${id}/${path}`, { method: 'POST', headers: authHeaders(TEST_TOKENS.bob), body: JSON.stringify({ decision: 'deny' }) });
      expect(other.status).toBe(403);
    }
  });
});

describe('detached turns on Redis with two replicas', () => {
  let pair: ReplicaPair;
  beforeAll(async () => {
    pair = await startReplicaPair({ poolSize: 1, agentEnv: { ...NO_PRESTART } });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  test('a caller cut at the first frame on replica A: replica B serves the whole turn from the event log and shows the status', async () => {
    const id = 'pair-cut-1';
    await sendMessage(pair.a.url, id, 'one', { token: alice });
    pair.model.script({ kind: 'slow', delayMs: 200 });
    const abort = new AbortController();
    const cut = await sendMessage(pair.a.url, id, 'two', { token: alice, signal: abort.signal, onFrame: () => abort.abort() });
    expect(cut.frames.map((f) => f.event)).toEqual(['turn']);
    const running = await sessionView(pair.b.url, id);
    expect(['running', 'idle']).toContain(running.status);
    const rest = await collect(`${pair.b.url}/sessions/${id}/events`, { headers: { ...authHeaders(alice), 'last-event-id': '2:0' } });
    expectWholeTurn([...cut.frames, ...rest.frames], 2);
    expect(rest.frames.at(-1)!.event).toBe('done');
    await waitFor('status idle on B', async () => (await sessionView(pair.b.url, id)).status === 'idle');
    expect(await sessionView(pair.b.url, id)).toMatchObject({ lastStopReason: 'end_turn', currentTurn: null });
    const listed = (await (await fetch(`${pair.b.url}/sessions`, { headers: authHeaders(alice) })).json()) as { sessions: Array<{ id: string; status: string }> };
    expect(listed.sessions.find((x) => x.id === id)).toMatchObject({ status: 'idle' });
  });

  test('a replica killed mid-turn: a resume on the other replica ends with exactly one terminal frame', async () => {
    const id = 'pair-crash-1';
    await sendMessage(pair.a.url, id, 'one', { token: alice });
    pair.model.script({ kind: 'slow', delayMs: 400 });
    let crashed: Promise<void> | undefined;
    const onA = await sendMessage(pair.a.url, id, 'two', {
      token: alice,
      onFrame: (frame) => {
        if (frame.event === 'message') crashed ??= pair.a.stack.gateway!.crash();
      },
    }).catch(() => undefined);
    await crashed;
    const seen = onA?.frames ?? [];
    const lastId = seen.filter((f) => f.id).at(-1)?.id ?? '2:0';
    // B's rescuer takes the lease over once it expires; the resume waits on the log meanwhile.
    const rest = await collect(`${pair.b.url}/sessions/${id}/events`, { headers: { ...authHeaders(alice), 'last-event-id': lastId } });
    expect(rest.status).toBe(200);
    const union = [...seen.filter((f) => !isTerminal(f)), ...rest.frames];
    expectWholeTurn(union, 2);
    await waitFor('status idle on B', async () => (await sessionView(pair.b.url, id)).status === 'idle');
    const view = await sessionView(pair.b.url, id);
    expect(view.lastStopReason).toBe(JSON.parse(rest.frames.at(-1)!.data).stopReason);
  });
});
