// Tenant quotas across two gateway replicas over one Redis (issue 9, item 3): the rate bucket,
// the session leases and the turn leases live in the store's QuotaCounters, so a tenant's limit is the
// same whichever replica each request lands on (not multiplied by the replica count). Two whole
// stacks in this process share one redis-server, one offline model, one tenants file and one
// set of credential keys, as two Deployments' pods would.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OfflineModel } from '@berth/cli/offline-model';
import { startReplicaPair, type ReplicaPair } from '../fixtures/replicas.js';
import { authHeaders, sendMessage, terminalFrames, TEST_TOKENS, type TestStack, type Turn } from '../fixtures/stack.js';
import { metricValue, startTurn } from '../fixtures/quota-client.js';

let replicas: ReplicaPair;
let model: OfflineModel;
let a: TestStack;
let b: TestStack;

beforeAll(async () => {
  replicas = await startReplicaPair({ poolSize: 1, tenantExtra: {
    alice: '    limits: { maxConcurrentSessions: 1 }\n',
    bob: '    limits: { maxConcurrentTurns: 1, requestsPerMinute: 6 }\n',
  } });
  ({ a, b, model } = replicas);
});

afterAll(async () => replicas?.stop());

function expectRefusal(turn: Turn, code: string): void {
  expect(turn.status).toBe(429);
  expect(turn.problem?.code).toBe(code);
  expect(Number(turn.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

describe('quotas across two replicas', () => {
  test('maxConcurrentSessions 1: a session bound through replica A blocks a second one through replica B until deleted', async () => {
    const first = await sendMessage(a.url, 'ra-1', 'hello', { token: TEST_TOKENS.alice });
    expect(terminalFrames(first).map((f) => f.event)).toEqual(['done']);
    expectRefusal(await sendMessage(b.url, 'ra-2', 'hello', { token: TEST_TOKENS.alice }), 'quota_exceeded');
    expect(await metricValue(b.url, 'berth_gateway_quota_refusals_total', 'kind="sessions"')).toBe(1);
    // The session that holds the slot keeps working through either replica.
    expect(terminalFrames(await sendMessage(b.url, 'ra-1', 'again', { token: TEST_TOKENS.alice })).map((f) => f.event)).toEqual(['done']);
    // Deleted through B, the slot is free for a session through A.
    expect((await fetch(`${b.url}/sessions/ra-1`, { method: 'DELETE', headers: authHeaders(TEST_TOKENS.alice) })).status).toBe(200);
    expect(terminalFrames(await sendMessage(a.url, 'ra-2', 'now', { token: TEST_TOKENS.alice })).map((f) => f.event)).toEqual(['done']);
  });

  test('maxConcurrentTurns 1 and requestsPerMinute 6: one turn streaming on A refuses a turn on B; a burst over both replicas drains one shared bucket', async () => {
    const bob = TEST_TOKENS.bob;
    // Request 1 (A): a slow turn holds bob's only turn slot.
    model.script({ kind: 'slow', delayMs: 500 });
    const slow = startTurn(a.url, 'rb-1', 'take your time', bob);
    await slow.started;
    // Request 2 (B): refused by the lease A holds.
    expectRefusal(await sendMessage(b.url, 'rb-2', 'me too', { token: bob }), 'quota_exceeded');
    expect(terminalFrames(await slow.done).map((f) => f.event)).toEqual(['done']);
    // Request 3 (B): the slot came back when A's stream ended.
    expect(terminalFrames(await sendMessage(b.url, 'rb-2', 'now', { token: bob })).map((f) => f.event)).toEqual(['done']);
    // Then a quick burst of 8 alternating over both replicas. The shared bucket (capacity 6,
    // 3 spent, refilled at 0.1/s meanwhile, never above 6) admits at most 6 of them, so at least
    // 2 are refused; a bucket per replica (each having seen at most 2 requests) would admit all 8.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${(i % 2 === 0 ? a : b).url}/sessions`, { headers: authHeaders(bob) });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(((await res.json()) as { code: string }).code).toBe('rate_limited');
        const retryAfter = Number(res.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(10);
      } else {
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    }
    const firstRefusal = statuses.indexOf(429);
    expect(statuses.filter((st) => st === 429).length).toBeGreaterThanOrEqual(2);
    // Once empty it stays empty for the burst (a burst of a few ms refills far below one token).
    expect(statuses.slice(firstRefusal).every((st) => st === 429)).toBe(true);
    const refusedRate = (await metricValue(a.url, 'berth_gateway_quota_refusals_total', 'kind="rate"')) + (await metricValue(b.url, 'berth_gateway_quota_refusals_total', 'kind="rate"'));
    expect(refusedRate).toBe(statuses.filter((st) => st === 429).length);
  });
});
