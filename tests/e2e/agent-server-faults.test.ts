// Model failures and shutdown: whatever the model does (429, 529, a cut stream), a turn's stream
// ends with exactly one terminal frame, last. CLAUDE_CODE_MAX_RETRIES is 1 here (via
// BERTH_AGENT_MAX_RETRIES), so a fault either heals on the one retry or fails the turn quickly.
// Also: SIGTERM mid-turn exits 0 and leaves no CLI process.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { alive, bootstrap, cliPids, mainRequests, postTurn, readFrames, resultText, startRig, stopRig, terminal, turn, type ParsedFrame, type Rig } from '../fixtures/offline-model-agent.js';
import { waitFor } from '../fixtures/wait-for.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ BERTH_AGENT_MAX_RETRIES: '1' });
  expect((await bootstrap(rig)).status).toBe(200);
});
afterAll(async () => {
  await stopRig(rig);
});

function expectOneTerminalLast(frames: ParsedFrame[], event: 'done' | 'error'): void {
  const ends = terminal(frames);
  expect(ends.map((f) => f.event)).toEqual([event]);
  expect(frames.at(-1)).toBe(ends[0]);
}

test('one 429 (retry-after 1 s) heals on the retry: done', async () => {
  rig.model.script({ kind: 'status', status: 429, retryAfterS: 1 });
  const before = mainRequests(rig.model).length;
  const frames = await turn(rig, 'rate limited once');
  expectOneTerminalLast(frames, 'done');
  expect(resultText(frames)).toContain('you said "rate limited once"');
  expect(mainRequests(rig.model).length - before).toBe(2);
});

test('a cut stream heals on the retry: done', async () => {
  rig.model.script({ kind: 'cut' });
  const frames = await turn(rig, 'cut once');
  expectOneTerminalLast(frames, 'done');
  expect(resultText(frames)).toContain('you said "cut once"');
});

test('529 overloaded past the retry budget: one error frame, after the error result', async () => {
  rig.model.script({ kind: 'status', status: 529 }, { kind: 'status', status: 529 }, { kind: 'status', status: 529 });
  const frames = await turn(rig, 'overloaded');
  const result = frames.find((f) => f.event === 'message' && f.json.type === 'result');
  expect(result?.json.is_error).toBe(true);
  expectOneTerminalLast(frames, 'error');
  expect(frames.at(-1)?.json).toMatchObject({ code: 'turn_failed' });
  expect(typeof frames.at(-1)?.json.message).toBe('string');
  // Leftover script entries would mean the CLI retried less than we think; drain them for the next test.
  while (rig.model.pending() > 0) await turn(rig, 'drain');
});

test('500 past the retry budget: one error frame; the session still works afterwards', async () => {
  rig.model.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
  const frames = await turn(rig, 'server error');
  expectOneTerminalLast(frames, 'error');
  const next = await turn(rig, 'recovered');
  expectOneTerminalLast(next, 'done');
  // The failed turn's prompt got no answer, so the CLI merges it with this one into one user message.
  expect(resultText(next)).toMatch(/^offline model: you said "server error(\\n)+recovered"/);
});

test('SIGTERM mid-turn: the server exits 0 and no CLI process is left', async () => {
  rig.model.script({ kind: 'slow', delayMs: 500, text: 'slow enough to be interrupted by the shutdown signal' });
  const res = await postTurn(rig, 'interrupted by shutdown');
  let pids: number[] = [];
  const before = mainRequests(rig.model).length;
  const reading = readFrames(res, (frame) => {
    if (frame.event === 'message' && frame.json.type === 'system' && pids.length === 0) {
      void waitFor('the model to be asked', () => mainRequests(rig.model).length > before).then(() => {
        pids = cliPids(rig.agent.child.pid!);
        // Only the server process, not its group: the server itself must clean up.
        process.kill(rig.agent.child.pid!, 'SIGTERM');
      });
    }
  });
  const frames = await reading.catch(() => [] as ParsedFrame[]);
  await rig.agent.exited;
  expect(rig.agent.child.exitCode).toBe(0);
  expect(pids.length).toBeGreaterThan(0);
  await waitFor('every CLI of the turn to exit', () => pids.every((pid) => !alive(pid)));
  expect(terminal(frames).length).toBeLessThanOrEqual(1);
});
