// The caller journey through the whole gateway, written once and run per sandbox backend
// (tests/kubernetes/gateway-journey.test.ts, tests/modal/gateway-journey.test.ts; the local
// backend's fuller version is tests/e2e/stack.test.ts). Each run brings a started stack on its
// backend's fake plus two probes into that fake: is a sandbox still running, and kill one.
// It pins what a caller sees, plus the sandbox side effects a backend owns: warm claims, refill,
// release on DELETE, resume on a fresh sandbox after a crash, and a turn that outlives its
// caller's connection (issue 13) with its history intact after the sandbox dies. It does not cover backend
// faults (each backend's own fault tests do) or stream details the e2e journey already pins.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROBLEM_TYPE_BASE } from '@berth/protocol';
import { authHeaders, collect, resultText, sendMessage, terminalFrames, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

export interface JourneyWorld {
  stack: TestStack;
  /** True while the backend's sandbox with this id (pod name, Modal sandbox id) still runs. */
  sandboxRunning(sandboxId: string): boolean | Promise<boolean>;
  /** Fault: the sandbox dies on its own (process killed), as a node loss or OOM would. */
  killSandbox(sandboxId: string): Promise<void>;
  /** Stops the stack, then the fake. */
  close(): Promise<void>;
}

export interface GatewayJourneyOptions {
  backend: string;
  /** Starts a stack whose default profile keeps `poolSize` standbys. */
  open(poolSize: number): Promise<JourneyWorld>;
}

interface PoolView {
  ready: number;
  warmClaims: number;
  coldStarts: number;
  target: number;
}


export function runGatewayJourney(options: GatewayJourneyOptions): void {
  // Two standbys: enough to see a warm claim and a refill, small enough for two shared cores.
  const poolSize = 2;
  // Per test: several real agent turns plus a cold boot; the project's 60 s is tight when other
  // suites share the two cores (the resume case alone has taken 40 s under load).
  const testTimeoutMs = 150_000;
  let w: JourneyWorld;
  let s: TestStack;

  const alice = (): Record<string, string> => authHeaders(s.tokens.alice);
  async function pool(): Promise<PoolView> {
    const res = await fetch(`${s.url}/api/pool`, { headers: alice() });
    expect(res.status).toBe(200);
    return ((await res.json()) as { pools: PoolView[] }).pools[0]!;
  }
  async function sandboxOf(sessionId: string): Promise<string> {
    const session = await s.stack.store.sessions.getSession(sessionId);
    expect(session?.sandbox, `session ${sessionId} has a sandbox`).toBeTruthy();
    return session!.sandbox!.sandboxId;
  }

  describe(`gateway journey on the ${options.backend} backend`, () => {
    beforeAll(async () => {
      w = await options.open(poolSize);
      s = w.stack;
      await waitFor(`${poolSize} ready standbys`, async () => (await pool()).ready === poolSize, { timeoutMs: 90_000 });
    }, 120_000);
    afterAll(async () => w?.close());

    // First, while no claim has happened yet: the pool's counters start from zero here.
    test('the first claim comes from the warm pool, and the pool refills', async () => {
      const before = await pool();
      expect(before).toMatchObject({ ready: poolSize, target: poolSize, warmClaims: 0, coldStarts: 0 });
      const turn = await sendMessage(s.url, 'journey-1', 'hello there', { token: s.tokens.alice });
      expect(turn.status).toBe(200);
      expect(turn.contentType).toMatch(/^text\/event-stream/);
      expect(terminalFrames(turn)).toHaveLength(1);
      expect(turn.frames.at(-1)!.event).toBe('done');
      const types = turn.frames.filter((f) => f.event === 'message').map((f) => (JSON.parse(f.data) as { type: string }).type);
      expect(types).toContain('assistant');
      expect(types.at(-1)).toBe('result');
      expect(resultText(turn)).toContain('you said "hello there"');
      const view = await (await fetch(`${s.url}/sessions/journey-1`, { headers: alice() })).json();
      expect(view).toMatchObject({ id: 'journey-1', tenant: 'alice', turns: 1 });

      const after = await pool();
      expect(after.warmClaims).toBe(1);
      expect(after.coldStarts).toBe(0);
      expect(await w.sandboxRunning(await sandboxOf('journey-1'))).toBe(true);
      await waitFor('the pool to refill to its target', async () => (await pool()).ready === poolSize);
    }, testTimeoutMs);

    test("the follow-up's request to the model carries turn one", async () => {
      await sendMessage(s.url, 'journey-2', 'remember the word kestrel', { token: s.tokens.alice });
      const before = s.model.requests.length;
      const turn = await sendMessage(s.url, 'journey-2', 'what was the word?', { token: s.tokens.alice });
      expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
      expect(resultText(turn)).toContain('earlier user turns: ["remember the word kestrel"]');
      const request = s.model.requests.slice(before).find((r) => r.kind === 'main')!;
      expect(JSON.stringify(request.body)).toContain('remember the word kestrel');
      // The egress gateway swapped in the real key; the sandbox only ever held its credential.
      expect(request.headers['x-api-key']).toBe('sk-ant-real-key-for-tests');
    }, testTimeoutMs);

    test("another tenant gets 403 on alice's session; no token gets 401", async () => {
      await sendMessage(s.url, 'alice-private', 'hi', { token: s.tokens.alice });
      const bob = await sendMessage(s.url, 'alice-private', 'let me in', { token: s.tokens.bob });
      expect(bob.status).toBe(403);
      expect(bob.problem).toMatchObject({ code: 'forbidden', status: 403, type: `${PROBLEM_TYPE_BASE}forbidden` });
      expect((await fetch(`${s.url}/sessions/alice-private`, { headers: authHeaders(s.tokens.bob) })).status).toBe(403);
      const anonymous = await sendMessage(s.url, 'alice-private', 'hi');
      expect(anonymous.status).toBe(401);
      expect(anonymous.problem?.code).toBe('unauthenticated');
    }, testTimeoutMs);

    test('a Bash tool round trip runs the command in the sandbox and feeds the result back', async () => {
      const turn = await sendMessage(s.url, 'journey-bash', 'please run [[bash: echo berth-$((20+22))]]', { token: s.tokens.alice });
      expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
      const messages = turn.frames.filter((f) => f.event === 'message').map((f) => f.data);
      expect(messages.some((m) => m.includes('"tool_use"') && m.includes('Bash'))).toBe(true);
      // berth-42 appears only if the shell ran: the prompt holds the unexpanded arithmetic.
      expect(messages.some((m) => m.includes('"tool_result"') && m.includes('berth-42'))).toBe(true);
    }, testTimeoutMs);

    test('DELETE then GET is 404, and the sandbox is gone', async () => {
      await sendMessage(s.url, 'doomed', 'hi', { token: s.tokens.alice });
      const sandboxId = await sandboxOf('doomed');
      expect(await w.sandboxRunning(sandboxId)).toBe(true);
      const del = await fetch(`${s.url}/sessions/doomed`, { method: 'DELETE', headers: alice() });
      expect(del.status).toBe(200);
      expect(await del.json()).toEqual({ id: 'doomed', deleted: true, status: 'deleted' });
      expect((await fetch(`${s.url}/sessions/doomed`, { headers: alice() })).status).toBe(404);
      await waitFor(`sandbox ${sandboxId} to be gone`, async () => !(await w.sandboxRunning(sandboxId)));
    }, testTimeoutMs);

    test('a caller cut at the first frame: the turn runs on, GET /events returns all of it, and after the sandbox dies the next turn carries every turn once', async () => {
      await sendMessage(s.url, 'durable', 'the first word is wren', { token: s.tokens.alice });
      s.model.script({ kind: 'slow', delayMs: 200 });
      const abort = new AbortController();
      const cut = await sendMessage(s.url, 'durable', 'the second word is vole', { token: s.tokens.alice, signal: abort.signal, onFrame: () => abort.abort() });
      expect(cut.frames.map((f) => [f.id, f.event])).toEqual([['2:0', 'turn']]);
      await waitFor('the cut turn to end', async () => {
        const view = (await (await fetch(`${s.url}/sessions/durable`, { headers: alice() })).json()) as { status: string };
        return view.status === 'idle';
      });
      const events = await collect(`${s.url}/sessions/durable/events`, { headers: alice() });
      expect(events.frames[0]).toMatchObject({ id: '2:0', event: 'turn' });
      expect(terminalFrames(events).map((f) => f.event)).toEqual(['done']);
      expect(events.frames.at(-1)!.event).toBe('done');
      expect(resultText(events)).toContain('you said "the second word is vole"');

      await w.killSandbox(await sandboxOf('durable'));
      const turn = await sendMessage(s.url, 'durable', 'which words?', { token: s.tokens.alice });
      expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
      expect(resultText(turn)).toContain('earlier user turns: ["the first word is wren","the second word is vole"]');
    }, testTimeoutMs);

    test('after its sandbox dies, the next message resumes on a fresh one with the whole history', async () => {
      await sendMessage(s.url, 'phoenix', 'the first word is heron', { token: s.tokens.alice });
      await sendMessage(s.url, 'phoenix', 'the second word is otter', { token: s.tokens.alice });
      const first = await sandboxOf('phoenix');
      await waitFor('the pool back at its target', async () => (await pool()).ready === poolSize);
      const poolBefore = await pool();
      await w.killSandbox(first);
      expect(await w.sandboxRunning(first)).toBe(false);

      const before = s.model.requests.length;
      const turn = await sendMessage(s.url, 'phoenix', 'which words?', { token: s.tokens.alice });
      expect(turn.status).toBe(200);
      expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
      expect(resultText(turn)).toContain('earlier user turns: ["the first word is heron","the second word is otter"]');
      const request = s.model.requests.slice(before).find((r) => r.kind === 'main')!;
      expect(JSON.stringify(request.body)).toContain('the first word is heron');
      expect(JSON.stringify(request.body)).toContain('the second word is otter');
      const second = await sandboxOf('phoenix');
      expect(second).not.toBe(first);
      expect(await w.sandboxRunning(second)).toBe(true);
      // The fresh sandbox is a standby from the pool, bootstrapped with the stored transcript.
      const poolAfter = await pool();
      expect(poolAfter.warmClaims).toBe(poolBefore.warmClaims + 1);
      expect(poolAfter.coldStarts).toBe(poolBefore.coldStarts);
      const view = await (await fetch(`${s.url}/sessions/phoenix`, { headers: alice() })).json();
      expect(view).toMatchObject({ id: 'phoenix', turns: 3 });
    }, testTimeoutMs);
  });
}
