// The agent server's fallback paths, with the SDK's startup() and Query replaced by fakes (no
// CLI): a failed pre-start makes take() return null (the turn starts cold), a warm process for
// another resume id is closed and not used, and a pre-started CLI that fails before its first
// message is replaced by a cold start within the same turn, still ending with one terminal frame.
import { expect, test } from 'vitest';
import type { Query, WarmQuery } from '@anthropic-ai/claude-agent-sdk';
import { Prestarter, runTurn, TurnLog } from '@berth/agent-image';

function fakeWarm(): WarmQuery & { closed: boolean } {
  const warm = { closed: false, query: () => { throw new Error('not used'); }, close() { warm.closed = true; }, [Symbol.asyncDispose]: async () => {} };
  return warm as unknown as WarmQuery & { closed: boolean };
}

test('a failed pre-start yields null (cold start), and logs why', async () => {
  const logs: string[] = [];
  const prestarter = new Prestarter(true, () => ({}), (m) => logs.push(m), 1000, (async () => { throw new Error('spawn failed'); }) as never);
  prestarter.warm(undefined);
  expect(await prestarter.take(undefined)).toBeNull();
  expect(logs.join()).toContain('spawn failed');
});

test('a warm process for another resume id is closed, not used; a matching one is handed out once', async () => {
  const made: Array<WarmQuery & { closed: boolean }> = [];
  const start = (async () => { const w = fakeWarm(); made.push(w); return w; }) as never;
  const prestarter = new Prestarter(true, () => ({}), () => {}, 1000, start);
  prestarter.warm('session-a');
  expect(await prestarter.take('session-b')).toBeNull();
  expect(made[0]?.closed).toBe(true);
  prestarter.warm('session-b');
  const taken = await prestarter.take('session-b');
  expect(taken?.warm).toBe(made[1]);
  expect(await prestarter.take('session-b')).toBeNull();
  prestarter.restore(taken!);
  await prestarter.close();
  expect(made[1]?.closed).toBe(true);
});

test('pre-start disabled never calls startup()', async () => {
  let calls = 0;
  const prestarter = new Prestarter(false, () => ({}), () => {}, 1000, (async () => { calls++; return fakeWarm(); }) as never);
  prestarter.warm(undefined);
  expect(await prestarter.take(undefined)).toBeNull();
  expect(calls).toBe(0);
});

function fakeQuery(messages: object[], failFirst?: Error): Query {
  const iterator = (async function* () {
    if (failFirst) throw failFirst;
    for (const m of messages) yield m;
  })();
  return Object.assign(iterator, { close() {} }) as unknown as Query;
}

const limits = { maxFrames: 100, maxFrameBytes: 1 << 20, maxBufferedBytes: 1 << 24 };

test('a warm CLI failing before its first message is replaced by a cold start in the same turn', async () => {
  const frames = new TurnLog(1, limits);
  const logs: string[] = [];
  const result = await runTurn({
    query: fakeQuery([], new Error('parked CLI died')),
    fallback: () => fakeQuery([{ type: 'system', subtype: 'init', session_id: 's-1' }, { type: 'assistant', session_id: 's-1' }, { type: 'result', subtype: 'success', session_id: 's-1' }]),
    frames, stopRequested: () => null, knownSessionId: null, log: (m) => logs.push(m),
  });
  expect(result).toMatchObject({ sdkSessionId: 's-1', stopReason: 'end_turn', terminal: { event: 'done', data: { sdkSessionId: 's-1', stopReason: 'end_turn' } } });
  const read = frames.read(0);
  expect(read.kind === 'frames' && read.frames.map((f) => f.event)).toEqual(['message', 'message', 'message']);
  expect(logs.join()).toContain('parked CLI died');
});

test('a failure after the first message is not retried: an error terminal', async () => {
  const frames = new TurnLog(1, limits);
  let fallbackUsed = false;
  const failing = (async function* () {
    yield { type: 'system', subtype: 'init', session_id: 's-2' };
    throw new Error('Claude Code returned an error result: API Error');
  })();
  const result = await runTurn({
    query: Object.assign(failing, { close() {} }) as unknown as Query,
    fallback: () => { fallbackUsed = true; return fakeQuery([]); },
    frames, stopRequested: () => null, knownSessionId: null, log: () => {},
  });
  expect(fallbackUsed).toBe(false);
  expect(result.terminal).toEqual({ event: 'error', data: { message: 'Claude Code returned an error result: API Error', code: 'turn_failed', stopReason: 'error:turn_failed', sdkSessionId: 's-2' } });
});
