// The agent server's fallback paths, with the SDK's startup() and Query replaced by fakes (no
// CLI): a failed pre-start makes take() return null (the turn starts cold), a warm process for
// another resume id is closed and not used, and a pre-started CLI that fails before its first
// message is replaced by a cold start within the same turn, still ending with one terminal frame.
import { expect, test } from 'vitest';
import type { Query, WarmQuery } from '@anthropic-ai/claude-agent-sdk';
import { FrameWriter, Prestarter, runTurn } from '@berth/agent-image';

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

function fakeResponse() {
  const written: string[] = [];
  const res = {
    destroyed: false, writableEnded: false, socket: null,
    writeHead() { return res; }, flushHeaders() {}, on() { return res; },
    write(chunk: string) { written.push(chunk); return true; },
    end() { res.writableEnded = true; },
  };
  return { res, written };
}

test('a warm CLI failing before its first message is replaced by a cold start in the same turn', async () => {
  const { res, written } = fakeResponse();
  const frames = new FrameWriter(res as never);
  frames.open();
  const logs: string[] = [];
  const result = await runTurn({
    query: fakeQuery([], new Error('parked CLI died')),
    fallback: () => fakeQuery([{ type: 'system', subtype: 'init', session_id: 's-1' }, { type: 'assistant', session_id: 's-1' }, { type: 'result', session_id: 's-1' }]),
    frames, aborted: () => false, knownSessionId: null, log: (m) => logs.push(m),
  });
  expect(result).toMatchObject({ outcome: 'done', sdkSessionId: 's-1' });
  const events = written.join('').split('\n').filter((l) => l.startsWith('event: '));
  expect(events).toEqual(['event: message', 'event: message', 'event: message', 'event: done']);
  expect(logs.join()).toContain('parked CLI died');
});

test('a failure after the first message is not retried: one error frame', async () => {
  const { res, written } = fakeResponse();
  const frames = new FrameWriter(res as never);
  frames.open();
  let fallbackUsed = false;
  const failing = (async function* () {
    yield { type: 'system', subtype: 'init', session_id: 's-2' };
    throw new Error('Claude Code returned an error result: API Error');
  })();
  const result = await runTurn({
    query: Object.assign(failing, { close() {} }) as unknown as Query,
    fallback: () => { fallbackUsed = true; return fakeQuery([]); },
    frames, aborted: () => false, knownSessionId: null, log: () => {},
  });
  expect(fallbackUsed).toBe(false);
  expect(result.outcome).toBe('error');
  const last = written.join('').trim().split('\n\n').at(-1)!;
  expect(last).toContain('event: error');
  expect(JSON.parse(last.split('data: ')[1]!)).toEqual({ message: 'Claude Code returned an error result: API Error', code: 'turn_failed', stopReason: 'error:turn_failed', sdkSessionId: 's-2' });
});
