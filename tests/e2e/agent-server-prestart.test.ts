// Pre-start on and off: both modes serve correct turns (first and follow-ups), and the file
// prints the measured time from request to first assistant message for each, interleaved
// (on, off, on, off, …) so machine noise hits both alike. Nothing here asserts on time: the
// numbers are reported as one JSON line, medians and their ratio.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startOfflineModel } from '@berth/cli/offline-model';
import { bootstrap, postTurn, readFrames, startRig, stopRig, terminal, type Rig } from '../fixtures/offline-model-agent.js';

const ROUNDS = Number(process.env.BERTH_BENCH_ROUNDS || 4);
/** Think time between turns, ms: a caller's follow-up comes later than the CLI takes to start (~0.3 s). */
const THINK_MS = 1500;

const model = await startOfflineModel();
const rigs: Record<'warm' | 'cold', Rig | undefined> = { warm: undefined, cold: undefined };
beforeAll(async () => {
  // The standby's CLI is started with the start settings bootstrapBody's profile has, so the first
  // turn runs on it (standby.ts); every later turn on the CLI pre-started after the one before.
  rigs.warm = await startRig({ BERTH_AGENT_PRESTART: '1', BERTH_AGENT_STANDBY_PROFILE: JSON.stringify({ allowedTools: ['Bash'] }) }, model);
  rigs.cold = await startRig({ BERTH_AGENT_PRESTART: '0' }, model);
  for (const rig of [rigs.warm, rigs.cold]) expect((await bootstrap(rig)).status).toBe(200);
});
afterAll(async () => {
  await stopRig(rigs.warm, false);
  await stopRig(rigs.cold, false);
  await model.close();
});

async function timedTurn(rig: Rig, prompt: string): Promise<number> {
  const startedAt = performance.now();
  let firstAssistantMs = Number.NaN;
  const frames = await readFrames(await postTurn(rig, prompt), (frame) => {
    if (frame.event === 'message' && frame.json.type === 'assistant' && Number.isNaN(firstAssistantMs)) firstAssistantMs = performance.now() - startedAt;
  });
  expect(terminal(frames).map((f) => f.event)).toEqual(['done']);
  return firstAssistantMs;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

test('first assistant message latency with and without pre-start (first turn and follow-ups)', async () => {
  const samples = { warm: [] as number[], cold: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    await new Promise((resolve) => setTimeout(resolve, THINK_MS));
    for (const mode of ['warm', 'cold'] as const) samples[mode].push(await timedTurn(rigs[mode]!, `round ${round}`));
  }
  for (const mode of ['warm', 'cold'] as const) expect(samples[mode].every((ms) => Number.isFinite(ms))).toBe(true);
  const warm = median(samples.warm);
  const cold = median(samples.cold);
  console.log(JSON.stringify({
    bench: 'agent_first_assistant_ms', rounds: ROUNDS, prestart_p50_ms: Math.round(warm), cold_p50_ms: Math.round(cold),
    ratio: Number((warm / cold).toFixed(2)), first_turn_ms: { prestart: Math.round(samples.warm[0]!), cold: Math.round(samples.cold[0]!) },
    samples_ms: { prestart: samples.warm.map(Math.round), cold: samples.cold.map(Math.round) },
  }));
}, 300_000);
