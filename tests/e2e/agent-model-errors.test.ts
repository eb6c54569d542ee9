// The egress gateway's budget refusal as the agent meets it: the real agent server, Agent SDK and
// CLI against a model answering exactly what model-errors.ts builds for budget_exhausted (429,
// Messages API error body, x-should-retry: false, no retry-after). Pins that the CLI gives up at
// once (one model request although its default retry budget is ten) and that the turn ends with
// the gateway's readable message, not hours of sleeping in a sandbox, and with stopReason
// budget_reached (a `done`: the tenant's policy working, not a failure).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildModelError } from '@berth/gateway/egress';
import { bootstrap, mainRequests, startRig, stopRig, terminal, turn, type Rig } from '../fixtures/offline-model-agent.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
  expect((await bootstrap(rig)).status).toBe(200);
});
afterAll(async () => stopRig(rig));

test('a budget refusal ends the turn at once with the readable message and stopReason budget_reached', async () => {
  const refusal = buildModelError('budget_exhausted', { message: 'tenant alice has spent its model token budget (1200 of 1000 tokens per 86400 s); it renews in 22891 s' });
  const { error } = JSON.parse(refusal.body) as { error: { type: string; message: string } };
  rig.model.script({ kind: 'status', status: refusal.status, errorType: error.type, message: error.message, headers: { 'x-should-retry': refusal.headers['x-should-retry']! } });
  const before = mainRequests(rig.model).length;
  const frames = await turn(rig, 'over budget');
  expect(mainRequests(rig.model).length - before).toBe(1);
  expect(rig.model.pending()).toBe(0);
  const result = frames.find((f) => f.event === 'message' && f.json.type === 'result');
  expect(result?.json.is_error).toBe(true);
  const shown = JSON.stringify(frames.filter((f) => f.event !== 'transcript').map((f) => f.json));
  expect(shown).toContain('tenant alice has spent its model token budget');
  const [end] = terminal(frames);
  expect(terminal(frames)).toHaveLength(1);
  expect(end).toMatchObject({ event: 'done', json: { stopReason: 'budget_reached' } });
});
