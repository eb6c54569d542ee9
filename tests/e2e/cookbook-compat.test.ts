// Cookbook compatibility, to the letter: a client or probe written for the cookbook's hosting
// gateway gets GET /health {"status":"healthy"}, a DELETE body with "status":"deleted", and
// GET /api/pool with target_size, ready_count and standby_pods — each beside berth's own fields,
// which stay as they were.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { authHeaders, sendMessage, startTestStack, terminalFrames, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let s: TestStack;
beforeAll(async () => {
  s = await startTestStack({ poolSize: 1 });
});
afterAll(async () => s?.stop());

interface PoolAnswer {
  backend: string;
  pools: Array<Record<string, unknown>>;
  target_size: number;
  ready_count: number;
  standby_pods: string[];
}

async function pool(): Promise<PoolAnswer> {
  const res = await fetch(`${s.url}/api/pool`, { headers: authHeaders(s.tokens.alice) });
  expect(res.status).toBe(200);
  return (await res.json()) as PoolAnswer;
}

test('GET /health answers {"status":"healthy"} exactly; /healthz keeps its own answer', async () => {
  const res = await fetch(`${s.url}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'healthy' });
  expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ status: 'ok' });
});

test("GET /api/pool carries the cookbook's target_size, ready_count and standby_pods beside berth's pools", async () => {
  const warm = await waitFor('ready_count 1', async () => ((await pool()).ready_count === 1 ? pool() : undefined), { timeoutMs: 60_000 });
  expect(warm, 'waited for ready_count 1').toBeDefined();
  expect(warm).toMatchObject({ backend: 'local', target_size: 1, ready_count: 1 });
  expect(warm!.standby_pods).toEqual([expect.any(String)]);
  expect(warm!.pools).toEqual([expect.objectContaining({ profile: 'default', target: 1, ready: 1, starting: expect.any(Number), claimed: expect.any(Number) })]);
  expect(warm!.pools[0]).not.toHaveProperty('standbyIds');
});

test('DELETE adds "status":"deleted" and keeps id and deleted', async () => {
  const turn = await sendMessage(s.url, 'cookbook-1', 'hello', { token: s.tokens.alice });
  expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
  const res = await fetch(`${s.url}/sessions/cookbook-1`, { method: 'DELETE', headers: authHeaders(s.tokens.alice) });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ id: 'cookbook-1', deleted: true, status: 'deleted' });
});
