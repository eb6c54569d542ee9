// The turn runner without HTTP (issues 12 and 13): admission order (a refused first message leaves
// no session record), one read of the session record per message, the transparent re-provision
// of a lost sandbox, the typed outcomes the route maps to HTTP, and the detached relay into the
// event log (the `turn` frame first, transcript stored before the terminal frame, the ledger's
// status). The agent is a fake opener that answers with an SSE stream from memory; the stores are
// the in-process ones.

import { Readable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { BerthError, encodeFrame } from '@berth/protocol';
import type { ClaimedSandbox, SandboxBackend } from '@berth/orchestrator';
import { recordUsage } from '@berth/gateway/policy';
import { createGatewayMetrics } from '@berth/gateway/testing';
import { IngressQuotas } from '@berth/gateway/quotas';
import type { AgentTurn } from '@berth/gateway/sessions';
import { directModelAccess } from '@berth/gateway/sessions';
import { SessionService } from '@berth/gateway/sessions';
import { noSessionEvents } from '@berth/gateway/sessions';
import { TurnRunner, type ActiveTurn, type TurnOutcome } from '@berth/gateway/sessions';
import { MemoryEventLog } from '@berth/gateway/store';
import { createMemoryStore, type Store } from '@berth/gateway';
import { MemoryTurnLedger } from '@berth/gateway/store';
import type { Tenant, TenantLimits } from '@berth/gateway/tenants';

function tenant(name: string, limits: TenantLimits = {}): Tenant {
  return { name, tokenHashes: [], agent: {}, sandboxProfile: 'default', egress: { allow: [] }, limits };
}

/** A backend that hands out numbered sandboxes and remembers what it released. */
function fakeBackend(): SandboxBackend & { claims: string[]; released: string[] } {
  let next = 0;
  const claims: string[] = [];
  const released: string[] = [];
  return {
    kind: 'local',
    claims,
    released,
    async start() {},
    async stop() {},
    async claim(sessionId: string, profile: string): Promise<ClaimedSandbox> {
      claims.push(sessionId);
      return { sandboxId: `sb-${++next}`, url: `http://sandbox-${next}.test`, authToken: 't', profile, claimedAt: Date.now(), outcome: 'warm' };
    },
    async release(sessionId: string) {
      released.push(sessionId);
    },
    async pool() {
      return [];
    },
    async sweep() {
      return { removed: [] };
    },
    profiles: () => [],
  };
}

/** An agent answer: a `message` frame, one transcript batch and `done`. */
function agentStream(text: string): Readable {
  const frames = [
    encodeFrame({ id: '1', event: 'message', data: JSON.stringify({ type: 'assistant', text }) }),
    encodeFrame({ id: '2', event: 'transcript', data: JSON.stringify({ sdkSessionId: 'sdk-1', subpath: '', entries: [{ type: 'user', uuid: `u-${text}` }] }) }),
    encodeFrame({ id: '3', event: 'done', data: JSON.stringify({ sdkSessionId: 'sdk-1' }) }),
  ];
  return Readable.from(frames);
}

interface World {
  store: Store;
  backend: ReturnType<typeof fakeBackend>;
  runner: TurnRunner;
  active: Set<ActiveTurn>;
  reads: { checkAndTouch: number; getSession: number };
  draining: { value: boolean };
  opened: string[];
  events: MemoryEventLog;
  ledger: MemoryTurnLedger;
  /** Starts a turn and waits for its detached relay to end. */
  run(t: Tenant, sessionId: string, prompt?: string): Promise<{ outcome: TurnOutcome; frames: Array<[string, string]> }>;
}

function world(answer: (sandboxUrl: string, prompt: string) => AgentTurn = (_url, prompt) => ({ kind: 'stream', response: agentStream(prompt) })): World {
  const store = createMemoryStore();
  const reads = { checkAndTouch: 0, getSession: 0 };
  const checkAndTouch = store.sessions.checkAndTouch.bind(store.sessions);
  const getSession = store.sessions.getSession.bind(store.sessions);
  store.sessions.checkAndTouch = (...args) => (reads.checkAndTouch++, checkAndTouch(...args));
  store.sessions.getSession = (...args) => (reads.getSession++, getSession(...args));
  const backend = fakeBackend();
  const log = pino({ level: 'silent' });
  const metrics = createGatewayMetrics();
  const now = Date.now;
  const sessions = new SessionService({ store, backend, access: directModelAccess('http://model.test'), log, now, bootstrap: async () => undefined });
  const quotas = new IngressQuotas({ store, metrics, now, sessionLeaseTtlMs: 60_000 });
  const active = new Set<ActiveTurn>();
  const draining = { value: false };
  const opened: string[] = [];
  const events = new MemoryEventLog();
  const ledger = new MemoryTurnLedger();
  const runner = new TurnRunner({
    store,
    events,
    ledger,
    owner: 'replica-1',
    leaseMs: 60_000,
    sessionEvents: noSessionEvents,
    reattach: async () => ({ kind: 'lost', reason: 'ECONNREFUSED' }),
    sessions,
    quotas,
    log,
    metrics,
    now,
    draining: () => draining.value,
    active,
    openTurn: async (binding, _sessionId, prompt) => {
      opened.push(binding.url);
      return answer(binding.url, prompt);
    },
  });
  return {
    store,
    backend,
    runner,
    active,
    reads,
    draining,
    opened,
    events,
    ledger,
    async run(t, sessionId, prompt = 'hello') {
      const outcome = await runner.start({ tenant: t, sessionId, prompt });
      await runner.settled();
      const read = await events.read(sessionId, outcome.kind === 'started' ? { at: `${outcome.turn}:0` } : null, 100);
      const frames = read.kind === 'frames' && outcome.kind === 'started' ? read.frames.map((f): [string, string] => [f.id, f.event]) : [];
      return { outcome, frames };
    },
  };
}

function refusalCode(outcome: TurnOutcome): string | undefined {
  return outcome.kind === 'refused' && outcome.error instanceof BerthError ? outcome.error.code : undefined;
}

describe('turn runner', () => {
  test('a first message starts its turn: the log holds the turn frame, messages as <turn>:<seq>, one terminal frame; transcript, sdk session and status stored', async () => {
    const w = world();
    const { outcome, frames } = await w.run(tenant('alice'), 's1', 'hi there');
    expect(outcome).toMatchObject({ kind: 'started', turn: 1, first: { id: '1:0', event: 'turn' } });
    // seq is the agent's own frame number (the transcript frame, seq 2, never reaches the log).
    expect(frames).toEqual([
      ['1:0', 'turn'],
      ['1:1', 'message'],
      ['1:3', 'done'],
    ]);
    expect(await w.ledger.get('s1')).toEqual({ status: 'idle', currentTurn: null, lastStopReason: 'end_turn' });
    const session = (await w.store.sessions.getSession('s1'))!;
    expect(session).toMatchObject({ tenant: 'alice', turns: 1, sdkSessionId: 'sdk-1' });
    expect(session.sandbox).toMatchObject({ sandboxId: 'sb-1', profile: 'default' });
    // The binding is the orchestrator's sandbox type as claimed, minus how the claim was served.
    expect(session.sandbox).not.toHaveProperty('outcome');
    expect((await w.store.transcripts.loadTranscript('s1')).map((e) => e.entry.uuid)).toEqual(['u-hi there']);
    expect(w.active.size).toBe(0);
  });

  test('a follow-up on a bound session reads the session record once (the ownership check) and never again', async () => {
    const w = world();
    await w.run(tenant('alice'), 's1');
    w.reads.checkAndTouch = 0;
    w.reads.getSession = 0;
    const { outcome } = await w.run(tenant('alice'), 's1', 'again');
    expect(outcome).toMatchObject({ kind: 'started', turn: 2, first: { id: '2:0', event: 'turn' } });
    expect(w.reads).toEqual({ checkAndTouch: 1, getSession: 0 });
  });

  test('refused first messages create no session record: draining, token budget, session quota', async () => {
    const w = world();
    w.draining.value = true;
    const drained = await w.run(tenant('alice'), 'new-1');
    expect(refusalCode(drained.outcome)).toBe('draining');
    expect(await w.events.last('new-1')).toBeNull();
    w.draining.value = false;

    const spent = tenant('carol', { tokenBudget: { tokens: 10, periodS: 3600 } });
    await recordUsage(w.store.usage, 'carol', 'elsewhere', { inputTokens: 20, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 }, spent.limits.tokenBudget, Date.now());
    expect(refusalCode((await w.run(spent, 'new-2')).outcome)).toBe('budget_exhausted');

    const oneSession = tenant('dave', { maxConcurrentSessions: 1 });
    expect((await w.run(oneSession, 'first')).outcome.kind).toBe('started');
    expect(refusalCode((await w.run(oneSession, 'new-3')).outcome)).toBe('quota_exceeded');

    for (const id of ['new-1', 'new-2', 'new-3']) expect(await w.store.sessions.getSession(id)).toBeNull();
    expect(w.backend.claims).toEqual(['first']);
  });

  test("another tenant's session is refused (forbidden) before any slot or sandbox is taken", async () => {
    const w = world();
    await w.run(tenant('alice'), 's1');
    const { outcome } = await w.run(tenant('bob', { maxConcurrentTurns: 1 }), 's1');
    expect(refusalCode(outcome)).toBe('forbidden');
    expect(w.backend.claims).toEqual(['s1']);
  });

  test('a bound sandbox found gone is dropped and the turn runs on a fresh one (one retry)', async () => {
    const w = world((url, prompt) => (url === 'http://sandbox-1.test' ? { kind: 'lost', reason: 'ECONNREFUSED' } : { kind: 'stream', response: agentStream(prompt) }));
    await w.store.sessions.createSession({ id: 's1', tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 0, lastActivityAt: 0, turns: 0 });
    const { outcome } = await w.run(tenant('alice'), 's1');
    expect(outcome).toMatchObject({ kind: 'started', turn: 1, first: { id: '1:0', event: 'turn' } });
    expect(w.opened).toEqual(['http://sandbox-1.test', 'http://sandbox-2.test']);
    expect(w.backend.released).toEqual(['s1']);
    expect((await w.store.sessions.getSession('s1'))!.sandbox!.sandboxId).toBe('sb-2');
  });

  test('a sandbox lost twice is sandbox_failed; a busy agent is turn_in_progress; neither numbers a turn', async () => {
    const lost = world(() => ({ kind: 'lost', reason: 'ECONNREFUSED' }));
    expect(refusalCode((await lost.run(tenant('alice'), 's1')).outcome)).toBe('sandbox_failed');
    expect((await lost.store.sessions.getSession('s1'))?.turns ?? 0).toBe(0);

    const busy = world(() => ({ kind: 'busy' }));
    expect(refusalCode((await busy.run(tenant('alice'), 's1')).outcome)).toBe('turn_in_progress');
    expect((await busy.store.sessions.getSession('s1'))!.turns).toBe(0);
    expect(busy.active.size).toBe(0);
  });

  test('a stream that breaks without a terminal frame and cannot be re-attached ends with one sandbox_lost frame and drops the sandbox', async () => {
    const w = world(() => ({ kind: 'stream', response: Readable.from([encodeFrame({ id: '1', event: 'message', data: '{"type":"assistant"}' })]) }));
    const { outcome, frames } = await w.run(tenant('alice'), 's1');
    expect(outcome).toMatchObject({ kind: 'started', turn: 1, first: { id: '1:0', event: 'turn' } });
    expect(frames).toEqual([
      ['1:0', 'turn'],
      ['1:1', 'message'],
      ['1:2', 'error'],
    ]);
    expect(await w.ledger.get('s1')).toMatchObject({ status: 'idle', lastStopReason: 'error:sandbox_lost' });
    expect((await w.store.sessions.getSession('s1'))!.sandbox).toBeNull();
  });
});
