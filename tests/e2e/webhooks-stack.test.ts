// Webhooks through the whole stack (real Agent SDK, offline model): a tenant with an endpoint in
// the tenants file gets its session's status changes and the turn's end, each verified with the
// `standardwebhooks` package; a tenant without one causes no request. Loopback receivers need
// BERTH_WEBHOOK_ALLOW_PRIVATE=1, as in development. A DELETE is announced as status `terminated`.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { sendMessage, startTestStack, terminalFrames, type TestStack } from '../fixtures/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fixtures/webhook-receiver.js';
import { SECRET } from '../fixtures/webhooks.js';

interface Delivered {
  type: string;
  data: { tenant: string; sessionId: string; status: string; turn: number | null; stopReason: string | null };
}

let s: TestStack;
let r: WebhookReceiver;

beforeAll(async () => {
  r = await startWebhookReceiver();
  s = await startTestStack({
    poolSize: 1,
    env: { BERTH_WEBHOOK_ALLOW_PRIVATE: '1' },
    tenantExtra: { alice: `    webhooks: [{ url: "${r.url}/berth", secret: "${SECRET}" }]\n` },
  });
});
afterAll(async () => {
  await s?.stop();
  await r?.close();
});

test("a turn's status changes and its end reach the tenant's endpoint, signed; another tenant's turn sends nothing", async () => {
  const turn = await sendMessage(s.url, 'hooked-1', 'hello hooks', { token: s.tokens.alice });
  expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
  const bobs = await sendMessage(s.url, 'bob-quiet-1', 'no hooks here', { token: s.tokens.bob });
  expect(terminalFrames(bobs).map((f) => f.event)).toEqual(['done']);

  const typeOf = (body: string): string => (JSON.parse(body) as { type: string }).type;
  await r.waitUntil('a session.turn_ended delivery', (requests) => requests.some((q) => typeOf(q.body) === 'session.turn_ended'));
  const delivered = r.requests.map((q) => r.verify(q, SECRET) as Delivered);
  expect(delivered.every((d) => d.data.tenant === 'alice' && d.data.sessionId === 'hooked-1')).toBe(true);
  expect(delivered).toContainEqual({ type: 'session.status_changed', timestamp: expect.any(String), data: expect.objectContaining({ status: 'running', turn: 1 }) });
  expect(delivered).toContainEqual({
    type: 'session.turn_ended',
    timestamp: expect.any(String),
    data: { tenant: 'alice', sessionId: 'hooked-1', status: 'idle', turn: 1, stopReason: 'end_turn' },
  });
  expect(new Set(r.requests.map((q) => q.headers['webhook-id'])).size).toBe(r.requests.length);
});

test('DELETE announces the session terminated (the record itself is gone: GET is 404)', async () => {
  const del = await fetch(`${s.url}/sessions/hooked-1`, { method: 'DELETE', headers: { authorization: `Bearer ${s.tokens.alice}` } });
  expect(await del.json()).toMatchObject({ id: 'hooked-1', deleted: true });
  const statusOf = (body: string): string | undefined => (JSON.parse(body) as { data?: { status?: string } }).data?.status;
  await r.waitUntil('a terminated delivery', (requests) => requests.some((q) => statusOf(q.body) === 'terminated'));
  const terminated = r.requests.filter((q) => statusOf(q.body) === 'terminated').map((q) => r.verify(q, SECRET) as Delivered);
  expect(terminated).toEqual([
    { type: 'session.status_changed', timestamp: expect.any(String), data: { tenant: 'alice', sessionId: 'hooked-1', status: 'terminated', turn: null, stopReason: null } },
  ]);
  expect((await fetch(`${s.url}/sessions/hooked-1`, { headers: { authorization: `Bearer ${s.tokens.alice}` } })).status).toBe(404);
});
