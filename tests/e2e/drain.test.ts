// Graceful drain (issue 9, item 6): what SIGTERM triggers is RunningGateway.close(). Pins the
// sequence on a whole stack with a 3 s grace (BERTH_DRAIN_GRACE_S): /readyz turns 503 at once,
// a new turn is refused with 503 draining (and Retry-After), a stream that finishes within the
// grace ends normally with `done`, a stream still running when the grace ends gets exactly one
// terminal frame (`event: error`, code draining), and close() then resolves.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { authHeaders, sendMessage, startTestStack, terminalFrames, type TestStack } from '../fixtures/stack.js';
import { startTurn } from '../fixtures/quota-client.js';
import { waitFor } from '../fixtures/wait-for.js';

let s: TestStack;

beforeAll(async () => {
  s = await startTestStack({ poolSize: 2, env: { BERTH_DRAIN_GRACE_S: '3' } });
  // Both sessions get their sandbox before the drain, so the drain meets two running streams.
  for (const id of ['short', 'long']) {
    expect(terminalFrames(await sendMessage(s.url, id, 'warm up', { token: s.tokens.alice })).map((f) => f.event)).toEqual(['done']);
  }
});
afterAll(async () => s?.stop());

describe('graceful drain', () => {
  test('close(): readyz 503, new turns 503 draining, a short stream finishes with done, a long one is cut with one error frame', async () => {
    const alice = s.tokens.alice;
    // Scripted replies go to main model requests in arrival order: start each turn only after
    // the previous one took its reply. short: ~8 events × 100 ms; long: 2 s per event (≫ grace).
    s.model.script({ kind: 'slow', delayMs: 100 });
    const short = startTurn(s.url, 'short', 'quick one', alice);
    await waitFor('the model to take the scripted reply', async () => s.model.pending() === 0);
    s.model.script({ kind: 'slow', delayMs: 2_000 });
    const long = startTurn(s.url, 'long', 'slow one', alice);
    await waitFor('the model to take the scripted reply', async () => s.model.pending() === 0);
    await Promise.all([short.started, long.started]);

    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    const closing = s.stack.gateway!.close();

    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { code: string }).code).toBe('draining');

    const refused = await sendMessage(s.url, 'fresh', 'hello?', { token: alice });
    expect(refused.status).toBe(503);
    expect(refused.problem?.code).toBe('draining');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Nothing was created for the refused turn.
    expect(await s.stack.store.sessions.getSession('fresh')).toBeNull();

    // Within the grace, the short stream runs to its normal end.
    const shortTurn = await short.done;
    expect(shortTurn.status).toBe(200);
    expect(terminalFrames(shortTurn).map((f) => f.event)).toEqual(['done']);
    expect(shortTurn.frames.at(-1)!.event).toBe('done');

    // Past the grace, the long stream ends with exactly one terminal frame, the last one.
    const longTurn = await long.done;
    expect(longTurn.status).toBe(200);
    const terminal = terminalFrames(longTurn);
    expect(terminal).toHaveLength(1);
    expect(longTurn.frames.at(-1)).toBe(terminal[0]);
    expect(terminal[0]!.event).toBe('error');
    expect(JSON.parse(terminal[0]!.data)).toMatchObject({ code: 'draining' });
    // It was cut, not finished: the model's final reply never reached the caller.
    expect(longTurn.frames.some((f) => f.event === 'message' && (JSON.parse(f.data) as { type: string }).type === 'result')).toBe(false);

    await closing;
    expect(s.stack.gateway!.context.streams.size).toBe(0);
    // The server is closed: no new connection is served.
    await expect(fetch(`${s.url}/healthz`, { headers: authHeaders(alice) })).rejects.toThrow();
  });

  test('a turn admitted just before close() and still claiming its sandbox is drained too (503 draining, or cut with one error frame)', async () => {
    // Pool size 0: every claim is a cold start, so the turn is provisioning when close() begins.
    const cold = await startTestStack({ poolSize: 0, env: { BERTH_DRAIN_GRACE_S: '2' } });
    try {
      cold.model.script({ kind: 'slow', delayMs: 2_000 });
      const late = startTurn(cold.url, 'late', 'slow one', cold.tokens.alice);
      // The record exists once the request passed the draining check and its admission.
      await waitFor('the late session record', async () => (await cold.stack.store.sessions.getSession('late')) !== null);
      await cold.stack.gateway!.close();
      const turn = await late.done;
      // Never a whole reply: a drained gateway does not run a turn past its grace.
      if (turn.status === 503) {
        expect(turn.problem?.code).toBe('draining');
      } else {
        expect(turn.status).toBe(200);
        const terminal = terminalFrames(turn);
        expect(terminal).toHaveLength(1);
        expect(turn.frames.at(-1)).toBe(terminal[0]);
        expect(JSON.parse(terminal[0]!.data)).toMatchObject({ code: 'draining' });
      }
      expect(cold.stack.gateway!.context.streams.size).toBe(0);
    } finally {
      await cold.stop();
    }
  });
});
