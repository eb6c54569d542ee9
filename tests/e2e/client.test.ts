// @berth/client against a whole in-process stack (real Agent SDK and CLI, the offline model,
// local sandboxes): a turn streamed as typed events and a follow-up that remembers; another
// tenant's refusal as one BerthApiError carrying the problem; a stream abandoned mid-turn and
// resumed with its last id (the rest arrives once, with one terminal event); an events tail and
// a turn's own stream cut server-side (every ingress connection closed) resuming by themselves
// with Last-Event-ID and stopping at the end (204); interrupt; a tool call approved through the
// client (alice's profile asks for Bash); paging iterators (sessions, usage); the admin and ops calls.
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BerthApiError, BerthClient, isTerminal, resultOf, type BerthEvent, type ReconnectInfo } from '@berth/client';
import { startTestStack, TEST_TOKENS, writeTenantsFile, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let s: TestStack;
let dir: string;
let alice: BerthClient;
let bob: BerthClient;
let admin: BerthClient;

/** Requests the clients sent, by method and path (query dropped), to see paging and reconnects. */
const sent: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  sent.push(`${init?.method ?? 'GET'} ${url.pathname}`);
  return fetch(input, init);
};

beforeAll(async () => {
  // alice's profile asks the caller before any Bash call (the approvals test); her other turns call no tool.
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-client-'));
  const file = await writeTenantsFile(dir);
  const yaml = await readFile(file, 'utf8');
  await writeFile(file, yaml.replace('permissionMode: default', 'permissionMode: default, permissions: { default: allow, rules: [{ tool: Bash, decision: ask }] }'));
  s = await startTestStack({ poolSize: 2, dir });
  // Short delays keep the reconnect tests quick; the bounds stay what the client enforces.
  const stream = { reconnect: { initialDelayMs: 50, maxDelayMs: 1000, maxRetries: 5 } };
  alice = new BerthClient({ baseUrl: s.url, token: TEST_TOKENS.alice, fetch: countingFetch, stream });
  bob = new BerthClient({ baseUrl: s.url, token: TEST_TOKENS.bob, fetch: countingFetch, stream });
  admin = new BerthClient({ baseUrl: s.url, token: () => TEST_TOKENS.admin, fetch: countingFetch });
});
afterAll(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** One turn as callers see it: `turn` first, ids growing within one turn, exactly one terminal event, last. */
function expectWholeTurn(events: BerthEvent[]): void {
  expect(events[0]?.event).toBe('turn');
  const turn = events[0]!.id.split(':')[0];
  const seqs = events.map((e) => {
    expect(e.id.split(':')[0]).toBe(turn);
    return Number(e.id.split(':')[1]);
  });
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
  expect(events.filter(isTerminal)).toHaveLength(1);
  expect(isTerminal(events.at(-1)!)).toBe(true);
}

async function idle(client: BerthClient, id: string): Promise<void> {
  await waitFor(`session ${id} idle`, async () => (await client.getSession(id)).status === 'idle');
}

describe('turns', () => {
  test('a turn streams as typed events; the follow-up remembers; the session view follows', async () => {
    const first = await alice.sendMessage('cl-1', 'remember the word kestrel').toArray();
    expectWholeTurn(first);
    const turn = first[0]!;
    expect(turn.event === 'turn' && turn.data).toEqual({ sessionId: 'cl-1', turn: 1 });
    expect(first.some((e) => e.event === 'message' && e.data.type === 'assistant')).toBe(true);
    expect(first.at(-1)).toMatchObject({ event: 'done', data: { sessionId: 'cl-1', turn: 1, stopReason: 'end_turn' } });
    expect(resultOf(first)).toContain('remember the word kestrel');

    const second = await alice.sendMessage('cl-1', 'what was the word?').toArray();
    expectWholeTurn(second);
    expect(resultOf(second)).toContain('earlier user turns: ["remember the word kestrel"]');
    expect(await alice.getSession('cl-1')).toMatchObject({ id: 'cl-1', tenant: 'alice', turns: 2, status: 'idle', lastStopReason: 'end_turn', currentTurn: null });
  });

  test("another tenant gets one BerthApiError carrying the 403 problem; an unknown token 401; a bad id 400", async () => {
    const refused = await bob.sendMessage('cl-1', 'hi').toArray().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BerthApiError);
    expect(refused).toMatchObject({
      status: 403,
      code: 'forbidden',
      type: 'https://berth.dev/problems/forbidden',
      title: 'Not allowed for this caller',
      detail: 'this session belongs to another tenant',
      problem: { status: 403, code: 'forbidden' },
    });
    await expect(bob.getSession('cl-1')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(bob.interrupt('cl-1')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    const stranger = new BerthClient({ baseUrl: s.url, token: 'berth_not_a_token' });
    await expect(stranger.listSessions()).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    await expect(alice.getSession('not a valid id!')).rejects.toMatchObject({ status: 400, code: 'invalid_session_id' });
    await expect(alice.getSession('cl-nothing')).rejects.toMatchObject({ status: 404, code: 'session_not_found' });
  });

  test('no answer at all is a BerthApiError network_error with the cause', async () => {
    const nowhere = new BerthClient({ baseUrl: 'http://127.0.0.1:9', token: 't' });
    const error = await nowhere.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BerthApiError);
    expect(error).toMatchObject({ status: 0, code: 'network_error' });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  test('a stream aborted after its first message resumes from its last id: the rest of the turn once, one terminal event', async () => {
    const id = 'cl-2';
    const abort = new AbortController();
    const stream = alice.sendMessage(id, 'a slow story [[slow: 300]]', { signal: abort.signal });
    const head: BerthEvent[] = [];
    const cut = await (async () => {
      for await (const event of stream) {
        head.push(event);
        if (event.event === 'message') abort.abort();
      }
    })().catch((error: unknown) => error);
    expect((cut as Error).name).toBe('AbortError');
    expect(head.map((e) => e.event)).toEqual(['turn', 'message']);
    expect(stream.lastEventId).toBe(head.at(-1)!.id);

    const rest = await alice.resume(id, stream.lastEventId!).toArray();
    expect(rest.length).toBeGreaterThan(0);
    const whole = [...head, ...rest];
    expectWholeTurn(whole);
    expect(whole.at(-1)).toMatchObject({ event: 'done', data: { sessionId: id, stopReason: 'end_turn' } });
    expect(resultOf(whole)).toContain('a slow story');
    // The same turn as the log holds it.
    const logged = await alice.events(id).toArray();
    expect(logged.map((e) => e.id)).toEqual(whole.map((e) => e.id));
    // Resuming from the terminal event: nothing more (the gateway's 204).
    expect(await alice.resume(id, whole.at(-1)!.id).toArray()).toEqual([]);
  });

  test('an events tail and the turn stream both survive every ingress connection being cut: each sees the whole turn once, then stops (204)', async () => {
    const id = 'cl-2';
    const turnStream = alice.sendMessage(id, 'a long story [[slow: 400]]');
    const firstOfTurn = await turnStream.next();
    expect(firstOfTurn.value).toMatchObject({ event: 'turn', id: expect.stringMatching(/^\d+:0$/) });
    const turnRest = turnStream.toArray();

    const reconnects: ReconnectInfo[] = [];
    const tailed: BerthEvent[] = [];
    let cutDone = false;
    for await (const event of alice.events(id, { onReconnect: (info) => reconnects.push(info) })) {
      tailed.push(event);
      if (event.event === 'message' && !cutDone) {
        cutDone = true;
        s.stack.gateway!.server.closeAllConnections();
      }
    }
    expect(cutDone).toBe(true);
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
    expect(reconnects[0]).toMatchObject({ attempt: 1, lastEventId: tailed.find((e) => e.event === 'message')!.id });
    expectWholeTurn(tailed);
    expect(tailed[0]!.id).toBe((firstOfTurn.value as BerthEvent).id);
    expect(tailed.at(-1)!.event).toBe('done');

    const sentStream = [firstOfTurn.value as BerthEvent, ...(await turnRest)];
    expect(sentStream.map((e) => e.id)).toEqual(tailed.map((e) => e.id));

    // A reconnect past the terminal event is the EventSource "stop": 204, an empty stream.
    const before = sent.length;
    expect(await alice.events(id, { lastEventId: tailed.at(-1)!.id }).toArray()).toEqual([]);
    expect(sent.slice(before)).toEqual([`GET /sessions/${id}/events`]);
  });

  test('interrupt stops a running turn: one terminal event saying interrupted; an idle session answers interrupted false', async () => {
    const id = 'cl-2';
    expect(await alice.interrupt(id)).toEqual({ interrupted: false });
    const events: BerthEvent[] = [];
    let interrupted: unknown;
    for await (const event of alice.sendMessage(id, 'a very long answer [[slow: 2000]]')) {
      events.push(event);
      if (event.event === 'message' && interrupted === undefined) interrupted = await alice.interrupt(id);
    }
    expect(interrupted).toEqual({ interrupted: true });
    expectWholeTurn(events);
    expect(events.at(-1)!.data).toMatchObject({ stopReason: 'interrupted' });
    await idle(alice, id);
    expect((await alice.getSession(id)).lastStopReason).toBe('interrupted');
  });

  test('a tool call the profile asks about arrives as approval_request; answered allow through the client, the command runs; a second answer is 404', async () => {
    const id = 'cl-2';
    const events: BerthEvent[] = [];
    let view: unknown;
    for await (const event of alice.sendMessage(id, 'go [[bash: echo approved-by-client]]')) {
      events.push(event);
      if (event.event === 'approval_request') {
        expect(event.data).toMatchObject({ tool: 'Bash', input: { command: 'echo approved-by-client' } });
        // The turn cannot end while it waits for this answer, so the status read is not racy.
        view = await alice.getSession(id);
        expect(await alice.answerApproval(id, event.data.requestId, { decision: 'allow' })).toEqual({ resolved: true });
        await expect(alice.answerApproval(id, event.data.requestId, { decision: 'deny', message: 'too late' })).rejects.toMatchObject({ status: 404, code: 'approval_not_found' });
      }
    }
    expect(view).toMatchObject({ status: 'awaiting_approval' });
    expectWholeTurn(events);
    expect(events.filter((e) => e.event === 'approval_resolved').map((e) => e.data)).toEqual([{ requestId: expect.any(String), decision: 'allow', by: 'caller' }]);
    expect(resultOf(events)).toContain('approved-by-client');
    await expect(alice.answerApproval(id, 'apr_unknown', { decision: 'allow' })).rejects.toMatchObject({ status: 404, code: 'approval_not_found' });
  });
});

describe('listings, ops and admin', () => {
  test('the sessions iterator walks every page and sees each session once', async () => {
    const all = await alice.listSessions({ limit: 1000 });
    expect(all.nextCursor).toBeNull();
    const before = sent.length;
    const walked: string[] = [];
    for await (const session of alice.sessions({ limit: 1 })) walked.push(session.id);
    expect(walked.sort()).toEqual(all.sessions.map((v) => v.id).sort());
    expect(new Set(walked).size).toBe(walked.length);
    expect(walked).toEqual(expect.arrayContaining(['cl-1', 'cl-2']));
    expect(sent.slice(before).every((r) => r === 'GET /sessions')).toBe(true);
    expect(walked.every((sid) => !sid.startsWith('bob'))).toBe(true);
  });

  test('ops calls: health, ready, pool (with the cookbook fields), usage', async () => {
    expect(await alice.health()).toEqual({ status: 'ok' });
    expect(await alice.ready()).toEqual({ status: 'ready' });
    const pool = await alice.pool();
    expect(pool).toMatchObject({ backend: 'local', target_size: expect.any(Number), ready_count: expect.any(Number), standby_pods: expect.any(Array) });
    expect(pool.pools[0]).toMatchObject({ profile: 'default', target: 2 });
    const usage = await alice.usage();
    expect(usage.tenant).toBe('alice');
    expect(usage.total.outputTokens).toBeGreaterThan(0);
    expect(Object.keys(usage.sessions)).toContain('cl-1');
    expect(usage).toMatchObject({ nextCursor: null, budget: null });
    // The usage iterator: one session per page, each once, in id order. (Counters are not
    // compared: a response of an earlier turn may still be metered between the two reads.)
    const before = sent.length;
    const walked: string[] = [];
    for await (const { sessionId, usage: counters } of alice.usageSessions({ limit: 1 })) {
      walked.push(sessionId);
      expect(counters).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    }
    expect(walked).toEqual(Object.keys(usage.sessions).sort());
    expect(sent.slice(before)).toEqual(walked.map(() => 'GET /api/usage'));
    await expect(alice.usage({ limit: 0 })).rejects.toMatchObject({ status: 400, code: 'invalid_body' });
  });

  test('admin: sessions paged across tenants, one session, pool, usage, tenants check, delete; tenants get 403', async () => {
    await bob.sendMessage('cl-bob', 'hello').toArray();
    const before = sent.length;
    const everyone: string[] = [];
    for await (const session of admin.admin.sessions({ limit: 1 })) everyone.push(session.id);
    const pages = sent.slice(before).filter((r) => r === 'GET /admin/sessions').length;
    expect(everyone).toEqual(expect.arrayContaining(['cl-1', 'cl-bob']));
    expect(new Set(everyone).size).toBe(everyone.length);
    expect(pages).toBeGreaterThanOrEqual(everyone.length);
    const bobs: string[] = [];
    for await (const session of admin.admin.sessions({ tenant: 'bob' })) bobs.push(session.id);
    expect(bobs).toEqual(['cl-bob']);

    expect(await admin.admin.getSession('cl-1')).toMatchObject({ id: 'cl-1', tenant: 'alice', usage: { outputTokens: expect.any(Number) } });
    expect((await admin.admin.pool()).pools[0]).toMatchObject({ profile: 'default' });
    const usage = await admin.admin.usage();
    expect(usage.usage.map((u) => u.tenant)).toEqual(['alice', 'bob']);
    expect(usage.usage[0]!.sessionCount).toBeGreaterThanOrEqual(1);
    const aliceUsage = (await admin.admin.usage({ tenant: 'alice' })).usage[0]!;
    expect(aliceUsage.sessions).toHaveProperty('cl-1');
    expect(aliceUsage.nextCursor).toBeNull();
    // One tenant's sessions, paged: one per request, each once, in id order.
    const usageBefore = sent.length;
    const metered: string[] = [];
    for await (const { sessionId } of admin.admin.usageSessions('alice', { limit: 1 })) metered.push(sessionId);
    expect(metered).toEqual(Object.keys(aliceUsage.sessions!).sort());
    expect(sent.slice(usageBefore)).toEqual(metered.map(() => 'GET /admin/usage'));
    await expect(admin.admin.usage({ limit: 1 })).rejects.toMatchObject({ status: 400, code: 'invalid_body' });
    const check = await admin.admin.checkTenants('tenants:\n  carol:\n    limts: {}\n');
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toContain('limts');

    await expect(alice.admin.pool()).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(await admin.admin.deleteSession('cl-bob')).toEqual({ id: 'cl-bob', tenant: 'bob', deleted: true });
    await expect(admin.admin.getSession('cl-bob')).rejects.toMatchObject({ status: 404, code: 'session_not_found' });
    expect(await alice.deleteSession('cl-2')).toEqual({ id: 'cl-2', deleted: true, status: 'deleted' });
    expect(await alice.deleteSession('cl-2')).toMatchObject({ deleted: false });
  });
});
