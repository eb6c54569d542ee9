// Agent API v2 end to end (real agent process, real Agent SDK and CLI, the offline model):
// turns run detached from the request that started them, any reader re-attaches after the last
// frame it holds, interrupt ends a turn with one terminal frame and leaves no process behind, and
// the profile's limits (turnTimeoutS, maxFramesPerTurn, maxTurns) each end a turn with their
// stop reason. The approvals live in agent-server-approvals.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startOfflineModel, type OfflineModel } from '@berth/cli/offline-model';
import { openTurnStream } from '@berth/orchestrator';
import type { AgentProfile } from '@berth/protocol';
import {
  TOKEN, alive, bootstrap, cliPids, descendants, health, postJson, readFrames, readIncoming, reattach, resultText, startRig, startTurn, stopRig,
  terminal, type ParsedFrame, type Rig,
} from '../fixtures/offline-model-agent.js';
import { waitFor } from '../fixtures/wait-for.js';

let model: OfflineModel;
beforeAll(async () => {
  model = await startOfflineModel();
});
afterAll(async () => {
  await model.close();
});

/** One agent process bootstrapped with `profile` for the tests of one describe block. */
function useRig(profile: AgentProfile): () => Rig {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig({ BERTH_AGENT_MAX_RETRIES: '1' }, model);
    expect((await bootstrap(rig, { profile })).status).toBe(200);
  });
  afterAll(async () => {
    await stopRig(rig, false);
  });
  return () => rig!;
}

const triple = (frames: ParsedFrame[]): Array<[string | undefined, string | undefined, string]> => frames.map((f) => [f.id, f.event, f.data]);

describe('detached turns', () => {
  const rig = useRig({ allowedTools: ['Bash'], permissionMode: 'default' });

  test('a caller cut at the first frame: the turn completes, and a re-attach after it gets the rest exactly once, transcript included', async () => {
    const controller = new AbortController();
    const res = await startTurn(rig(), 1, 'remember the word pelican [[slow: 200]]', controller.signal);
    expect(res.status).toBe(200);
    const cut = await readFrames(res, () => controller.abort());
    expect(cut.length).toBeGreaterThanOrEqual(1);
    expect(terminal(cut)).toHaveLength(0);
    const lastHeld = Number(cut.at(-1)!.id);

    // Re-attached the way the gateway does it: the orchestrator's agent client.
    const opened = await openTurnStream({ url: rig().agent.url, authToken: TOKEN }, 'sess-1', 1, { afterSeq: lastHeld });
    expect(opened.kind).toBe('stream');
    const rest = opened.kind === 'stream' ? await readIncoming(opened.response) : [];
    const whole = await readFrames(await reattach(rig(), 1));
    expect(triple([...cut, ...rest])).toEqual(triple(whole));
    expect(whole.map((f) => Number(f.id))).toEqual(whole.map((_, i) => i + 1));
    expect(terminal(whole)).toHaveLength(1);
    expect(whole.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'end_turn' } });
    expect(resultText(whole)).toContain('you said "remember the word pelican [[slow: 200]]"');
    // The turn's own user entry reached the stream although its caller had left (issue 13).
    const transcript = whole.filter((f) => f.event === 'transcript').map((f) => f.json as { entries: Array<{ type: string; uuid?: string }>; keys?: string[] });
    const entries = transcript.flatMap((b) => b.entries);
    expect(entries.some((e) => e.type === 'user' && JSON.stringify(e).includes('remember the word pelican'))).toBe(true);
    expect(entries.some((e) => e.type === 'assistant')).toBe(true);
    // Every entry has an idempotency key: its uuid or the batch's key for it.
    for (const batch of transcript) batch.entries.forEach((e, i) => expect(e.uuid ?? batch.keys?.[i]).toEqual(expect.any(String)));
    expect(await health(rig())).toMatchObject({ busy: false, turn: null, lastTurn: 1 });
  });

  test('two concurrent readers and the starting request see the same frames', async () => {
    const res = await startTurn(rig(), 2, 'read me twice [[slow: 150]]');
    const [a, b] = await Promise.all([reattach(rig(), 2), reattach(rig(), 2)]);
    const [own, first, second] = await Promise.all([readFrames(res), readFrames(a), readFrames(b)]);
    expect(terminal(own).map((f) => f.event)).toEqual(['done']);
    expect(triple(first)).toEqual(triple(own));
    expect(triple(second)).toEqual(triple(own));
  });

  test('interrupt of a long tool run: one terminal frame `interrupted`, no CLI or tool process left, and the session goes on', async () => {
    const res = await startTurn(rig(), 3, 'wait for it [[bash: echo start && sleep 37 && echo end]]');
    const reading = readFrames(res);
    const agentPid = rig().agent.child.pid!;
    const sleeper = await waitFor('the Bash tool\'s `sleep 37` under the agent', () => descendants(agentPid).find((p) => p.cmdline.startsWith('sleep 37')) ?? null);
    expect(sleeper, 'the Bash tool runs `sleep 37` under the agent').not.toBeNull();
    const turnProcesses = [...cliPids(agentPid), sleeper!.pid];
    expect(await (await postJson(rig(), '/sessions/sess-1/interrupt', {})).json()).toEqual({ interrupted: true });
    const frames = await reading;
    expect(terminal(frames)).toHaveLength(1);
    expect(frames.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'interrupted' } });
    await waitFor(`processes ${turnProcesses.join(', ')} to exit`, () => turnProcesses.every((pid) => !alive(pid)));
    expect(await (await postJson(rig(), '/sessions/sess-1/interrupt', {})).json()).toEqual({ interrupted: false });
    // The SDK's interrupt() ended the turn; the kill after the grace period was not needed.
    expect(rig().stderr.join('')).not.toMatch(/interrupt failed|did not end turn/);

    const next = await readFrames(await startTurn(rig(), 4, 'after the interrupt'));
    expect(next.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'end_turn' } });
    expect(resultText(next)).toContain('you said "after the interrupt"');
  });

  test('re-attach errors: unknown or dropped turn 404 turn_not_found, bad Last-Event-ID 400, past the end an empty stream; a re-sent start is 409', async () => {
    // Only the running and the last turn are kept: after turn 4, turn 3 is gone too.
    for (const turnNumber of [99, 3, 2]) {
      const res = await reattach(rig(), turnNumber);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('turn_not_found');
    }
    expect(await openTurnStream({ url: rig().agent.url, authToken: TOKEN }, 'sess-1', 99)).toEqual({ kind: 'turn_not_found' });
    const bad = await fetch(`${rig().agent.url}/sessions/sess-1/turns/4/stream?after=abc`, { headers: { 'x-berth-agent-token': 'test-agent-token-0123456789' } });
    expect(bad.status).toBe(400);
    const kept = await readFrames(await reattach(rig(), 4));
    expect(kept.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'end_turn' } });
    const past = await reattach(rig(), 4, 10_000);
    expect(past.status).toBe(200);
    expect(await readFrames(past)).toEqual([]);
    const again = await startTurn(rig(), 4, 'after the interrupt');
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('turn_in_progress');
    expect(await health(rig())).toMatchObject({ busy: false, turn: null, lastTurn: 4 });
  });
});

describe('turn limits', () => {
  describe('maxFramesPerTurn', () => {
    const rig = useRig({ maxFramesPerTurn: 3 });
    test('a turn past the frame limit ends with one error frame_limit in the last slot', async () => {
      const frames = await readFrames(await startTurn(rig(), 1, 'talk a lot'));
      expect(frames.map((f) => f.id)).toEqual(['1', '2', '3']);
      expect(terminal(frames)).toHaveLength(1);
      expect(frames.at(-1)).toMatchObject({ event: 'error', json: { code: 'frame_limit', stopReason: 'error:frame_limit' } });
      await waitFor('the agent to report idle', async () => !(await health(rig())).busy);
    });
  });

  describe('turnTimeoutS', () => {
    const rig = useRig({ turnTimeoutS: 2 });
    test('a turn running past turnTimeoutS is interrupted: one error turn_timeout', async () => {
      // 60 s between SSE events: only the timeout can end this turn early.
      const frames = await readFrames(await startTurn(rig(), 1, 'never-ending [[slow: 60000]]'));
      expect(terminal(frames)).toHaveLength(1);
      expect(frames.at(-1)).toMatchObject({ event: 'error', json: { code: 'turn_timeout', stopReason: 'error:turn_timeout' } });
    });
  });

  describe('maxTurns', () => {
    const rig = useRig({ allowedTools: ['Bash'], permissionMode: 'default', maxTurns: 1 });
    test('a turn that reaches maxTurns ends with done max_turns', async () => {
      const frames = await readFrames(await startTurn(rig(), 1, 'two steps [[bash: echo one]]'));
      expect(terminal(frames)).toHaveLength(1);
      expect(frames.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'max_turns' } });
    });
  });
});
