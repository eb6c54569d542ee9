// The session status while a turn's relay re-attaches (issue 13 item 4): a stream that breaks
// mid-turn puts the session in `rescheduling` until the agent's stream is back, then in the status
// it had (`running`, or `awaiting_approval` when the agent waits for an answer), and the sinks
// hear each change. The agent is a fake re-attach that answers from memory; the stores are the
// in-process ones.

import type http from 'node:http';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { expect, test } from 'vitest';
import { encodeFrame } from '@berth/protocol';
import { createMemoryStore } from '@berth/gateway';
import { createGatewayMetrics } from '@berth/gateway/testing';
import { runTurnTask, type SessionEvent, type TurnTaskDeps } from '@berth/gateway/sessions';
import { MemoryEventLog, MemoryTurnLedger } from '@berth/gateway/store';

const frame = (id: number, event: string, data: unknown = {}): string => encodeFrame({ id: String(id), event, data: JSON.stringify(data) });

async function setUp(reattachFrames: string[]) {
  const ledger = new MemoryTurnLedger();
  const published: SessionEvent[] = [];
  const seenAtReattach: string[] = [];
  const deps: TurnTaskDeps = {
    events: new MemoryEventLog(),
    ledger,
    store: createMemoryStore(),
    log: pino({ level: 'silent' }),
    metrics: createGatewayMetrics(),
    now: Date.now,
    owner: 'replica-1',
    leaseMs: 60_000,
    sessionEvents: { publish: (event) => void published.push(event) },
    reattach: async () => {
      seenAtReattach.push((await ledger.get('s1')).status);
      return { kind: 'stream', response: Readable.from(reattachFrames) as unknown as http.IncomingMessage };
    },
  };
  await ledger.begin('s1', 1, 'replica-1', 60_000, Date.now());
  return { deps, ledger, published, seenAtReattach };
}

const task = (upstream: Readable | null, afterSeq = 0) => ({
  tenant: 'alice',
  sessionId: 's1',
  turn: 1,
  binding: { sandboxId: 'sb-1', url: 'http://sandbox.test', authToken: 't', profile: 'default', claimedAt: 0 },
  sdkSessionId: null,
  upstream,
  afterSeq,
  lostCode: 'sandbox_lost' as const,
  signal: new AbortController().signal,
});

test('a stream broken mid-turn: rescheduling while the relay re-attaches, running once it is back, idle at the end', async () => {
  const { deps, ledger, published, seenAtReattach } = await setUp([frame(2, 'message', { type: 'assistant' }), frame(3, 'done', { stopReason: 'end_turn' })]);
  const end = await runTurnTask(deps, task(Readable.from([frame(1, 'message', { type: 'assistant' })])));
  expect(end).toEqual({ kind: 'ended', stopReason: 'end_turn', sandboxLost: false });
  expect(seenAtReattach).toEqual(['rescheduling']);
  expect(published.map((e) => [e.type, e.status])).toEqual([
    ['session.status_changed', 'rescheduling'],
    ['session.status_changed', 'running'],
    ['session.turn_ended', 'idle'],
  ]);
  expect(await ledger.get('s1')).toEqual({ status: 'idle', currentTurn: null, lastStopReason: 'end_turn' });
});

test('a relay taken over while the agent waits for an approval returns to awaiting_approval, not running', async () => {
  const { deps, ledger, published, seenAtReattach } = await setUp([frame(3, 'approval_resolved', { decision: 'allow' }), frame(4, 'done', { stopReason: 'end_turn' })]);
  await ledger.setStatus('s1', 1, 'awaiting_approval');
  await runTurnTask(deps, task(null, 2));
  expect(seenAtReattach).toEqual(['rescheduling']);
  const statuses = published.map((e) => e.status);
  expect(statuses.slice(0, 2)).toEqual(['rescheduling', 'awaiting_approval']);
  // The relayed approval_resolved frame then makes it running again; the turn's end makes it idle.
  expect(statuses.slice(2).sort()).toEqual(['idle', 'running']);
});

test('a sandbox that cannot be re-attached: rescheduling, then idle with sandbox_lost (it is not replaced mid-turn)', async () => {
  const { deps, ledger, published } = await setUp([]);
  deps.reattach = async () => ({ kind: 'lost', reason: 'ECONNREFUSED' });
  const end = await runTurnTask(deps, task(Readable.from([frame(1, 'message', { type: 'assistant' })])));
  expect(end).toEqual({ kind: 'ended', stopReason: 'error:sandbox_lost', sandboxLost: true });
  expect(published.map((e) => e.status)).toEqual(['rescheduling', 'idle']);
  expect(await ledger.get('s1')).toMatchObject({ status: 'idle', lastStopReason: 'error:sandbox_lost' });
});
