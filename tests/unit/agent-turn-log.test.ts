// The agent's per-turn frame log (agent-image/src/turn-log.ts) and terminal decision (turn.ts):
// numbering, replay after a seq, live tail, the frame bounds (the terminal frame always fits),
// dropping the oldest frames past the byte bound (replay_gap), and which stop reason wins.
import { expect, test } from 'vitest';
import { TurnLog, type LoggedFrame } from '@berth/agent-image/testing';
import { decide } from '@berth/agent-image/testing';

const limits = { maxFrames: 100, maxFrameBytes: 1024, maxBufferedBytes: 1 << 20 };
const seqs = (frames: LoggedFrame[]): number[] => frames.map((f) => f.seq);

test('frames are numbered from 1; read(after) replays the rest; subscribers get live frames and the terminal last', () => {
  const log = new TurnLog(3, limits);
  expect(log.append('message', { n: 1 })).toBe('ok');
  expect(log.append('transcript', { n: 2 })).toBe('ok');
  const live: LoggedFrame[] = [];
  log.subscribe((f) => live.push(f));
  expect(log.append('message', { n: 3 })).toBe('ok');
  log.end('done', { stopReason: 'end_turn' });
  log.end('error', { late: true });
  expect(log.append('message', { n: 5 })).toBe('ended');
  expect(live.map((f) => [f.seq, f.event])).toEqual([[3, 'message'], [4, 'done']]);
  const all = log.read(0);
  expect(all.kind === 'frames' && seqs(all.frames)).toEqual([1, 2, 3, 4]);
  const rest = log.read(2);
  expect(rest.kind === 'frames' && rest.frames.map((f) => f.data)).toEqual(['{"n":3}', '{"stopReason":"end_turn"}']);
  const none = log.read(4);
  expect(none.kind === 'frames' && none.frames).toEqual([]);
  expect([log.finished, log.lastSeq, log.turn]).toEqual([true, 4, 3]);
});

test('maxFrames keeps the last slot for the terminal frame; a frame over maxFrameBytes is refused', () => {
  const log = new TurnLog(1, { ...limits, maxFrames: 3 });
  expect(log.append('message', 'a')).toBe('ok');
  expect(log.append('message', 'b')).toBe('ok');
  expect(log.append('message', 'c')).toBe('frame_limit');
  log.end('error', { code: 'frame_limit' });
  const all = log.read(0);
  expect(all.kind === 'frames' && all.frames.map((f) => f.event)).toEqual(['message', 'message', 'error']);
  const big = new TurnLog(1, limits);
  expect(big.append('message', 'x'.repeat(1100))).toBe('frame_limit');
  expect(big.append('message', 'x'.repeat(100))).toBe('ok');
});

test('past maxBufferedBytes the oldest frames are dropped; a reader behind them gets a gap', () => {
  const log = new TurnLog(1, { ...limits, maxBufferedBytes: 250 });
  for (let i = 0; i < 5; i++) log.append('message', 'y'.repeat(98)); // 100 bytes of JSON each
  expect(log.read(0)).toEqual({ kind: 'gap', firstKept: 4 });
  expect(log.read(2)).toEqual({ kind: 'gap', firstKept: 4 });
  const kept = log.read(3);
  expect(kept.kind === 'frames' && seqs(kept.frames)).toEqual([4, 5]);
});

test('terminal decision: a stop the session asked for wins; max_turns is a done; a throw is turn_failed', () => {
  expect(decide('interrupted', 'success', null, 's')).toEqual({ event: 'done', data: { sdkSessionId: 's', stopReason: 'interrupted' } });
  expect(decide('interrupted', 'error_during_execution', new Error('x'), 's').data.stopReason).toBe('interrupted');
  expect(decide('error:turn_timeout', 'success', null, 's')).toMatchObject({ event: 'error', data: { code: 'turn_timeout', stopReason: 'error:turn_timeout' } });
  expect(decide('error:frame_limit', null, null, null)).toMatchObject({ event: 'error', data: { code: 'frame_limit', stopReason: 'error:frame_limit' } });
  expect(decide(null, 'error_max_turns', new Error('Reached maximum number of turns (1)'), 's')).toEqual({ event: 'done', data: { sdkSessionId: 's', stopReason: 'max_turns' } });
  expect(decide(null, 'error_during_execution', new Error('boom'), 's')).toEqual({ event: 'error', data: { message: 'boom', code: 'turn_failed', stopReason: 'error:turn_failed', sdkSessionId: 's' } });
  expect(decide(null, 'success', null, 's')).toEqual({ event: 'done', data: { sdkSessionId: 's', stopReason: 'end_turn' } });
});
