// TurnRunner: one caller message from admission to a started turn, without HTTP. It orders the
// checks (drain, budget, ownership, turn slot, session slot), creates the session record only
// once the first message is admitted, binds a sandbox (one transparent re-provision when the
// bound one is gone), numbers the turn, records its start (ledger, the `turn` frame in the event
// log) and hands the relay to a detached task (turn-task.ts) that reads the turn to its end
// whatever callers do. The route (ingress/routes-sessions.ts) maps the typed outcome to HTTP and
// serves the caller from the event log; tests drive start() directly.
// Neighbours: session-service.ts (records and sandboxes), agent-turn.ts (the agent's answer),
// turn-task.ts (the detached relay), quotas/ingress-quotas.ts (tenant limits).

import type { Readable } from 'node:stream';
import { BerthError } from '@berth/protocol';
import type { IngressQuotas, TurnSlot } from '../quotas/ingress-quotas.js';
import { frameId, type EventLog, type LoggedFrame } from '../store/event-log.js';
import type { SandboxBinding, SessionRecord } from '../store/session-records.js';
import type { Tenant } from '../tenants/tenant.js';
import { openAgentTurn } from './agent-turn.js';
import type { SessionService } from './session-service.js';
import { runTurnTask, type TurnTaskDeps } from './turn-task.js';

/** A turn admitted and not yet ended here (provisioning, relaying, or a caller's stream), so a drain can wait for it and then cut it. */
export interface ActiveTurn {
  /**
   * Stops it: a caller's stream ends with one `event: error` (code draining), a relay hands its
   * lease to another replica, a turn still provisioning is answered 503 draining.
   */
  cut(reason: string): void;
}

export interface TurnRunnerOptions extends TurnTaskDeps {
  store: TurnTaskDeps['store'];
  events: EventLog;
  sessions: Pick<SessionService, 'lookup' | 'create' | 'ensureSandbox' | 'dropSandbox'>;
  quotas: Pick<IngressQuotas, 'checkBudget' | 'admitTurn' | 'admitSession' | 'sessionReleased' | 'sessionTouched'>;
  /** True once shutdown began: new turns are refused with 503 draining. */
  draining: () => boolean;
  /** Turns admitted and not yet ended here; the drain reads it. */
  active: Set<ActiveTurn>;
  /** How a turn is opened on the agent. Default openAgentTurn (HTTP); unit tests pass a fake. */
  openTurn?: typeof openAgentTurn;
}

export interface TurnRequest {
  tenant: Tenant;
  sessionId: string;
  prompt: string;
}

export type TurnOutcome =
  /** Nothing started; `error` is the problem to answer (quota, budget, draining, busy, backend). */
  | { kind: 'refused'; error: unknown }
  /** The agent accepted turn `turn`; its `turn` frame (`first`) is in the event log, the relay runs detached. */
  | { kind: 'started'; turn: number; first: LoggedFrame };

export class TurnRunner {
  private readonly openTurn: typeof openAgentTurn;
  private readonly relays = new Set<Promise<unknown>>();

  constructor(private readonly options: TurnRunnerOptions) {
    this.openTurn = options.openTurn ?? openAgentTurn;
  }

  async start(request: TurnRequest): Promise<TurnOutcome> {
    try {
      return await this.admitAndStart(request);
    } catch (error) {
      return { kind: 'refused', error };
    }
  }

  /** Resolves when every relay this runner started has ended or handed off (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.relays.size > 0) await Promise.allSettled([...this.relays]);
  }

  private async admitAndStart(request: TurnRequest): Promise<TurnOutcome> {
    const { tenant, sessionId } = request;
    const { sessions, quotas } = this.options;
    // Refusals that need no record come first, so a refused first message leaves no session behind.
    if (this.options.draining()) throw new BerthError('draining', 'the gateway is shutting down; retry on another replica', { retryAfterS: 1 });
    await quotas.checkBudget(tenant);
    // The one read of the session record in this request (it also stamps activity).
    const existing = await sessions.lookup(tenant, sessionId);
    // Turn slot first (cheap to give back), then the session slot. The turn slot is held until
    // the detached relay ends, so maxConcurrentTurns counts turns running, not callers attached.
    const turnSlot = await quotas.admitTurn(tenant, sessionId);
    let handedToRelay = false;
    try {
      const freshSessionSlot = await quotas.admitSession(tenant, existing ?? unbound(tenant, sessionId));
      try {
        const session = existing ?? (await sessions.create(tenant, sessionId));
        const started = await this.startTurn(request, session, turnSlot);
        handedToRelay = true;
        return started;
      } catch (error) {
        // Provisioning failed before a sandbox was bound: give the new slot back, unless a
        // concurrent request on this session bound one meanwhile (then the slot is its).
        if (freshSessionSlot && !(await this.options.store.sessions.getSession(sessionId).catch(() => null))?.sandbox) {
          await quotas.sessionReleased(tenant, sessionId);
        }
        throw error;
      }
    } finally {
      if (!handedToRelay) await turnSlot.release();
    }
  }

  private async startTurn(request: TurnRequest, admitted: SessionRecord, turnSlot: TurnSlot): Promise<TurnOutcome> {
    const { tenant, sessionId, prompt } = request;
    const { store, sessions, metrics, ledger, events } = this.options;
    let session = admitted;
    const abort = new AbortController();
    let cutReason: string | undefined;
    // Registered before provisioning, so a drain waits for a turn still claiming its sandbox too.
    const provisioning: ActiveTurn = {
      cut: (reason: string) => {
        cutReason = reason;
        abort.abort();
      },
    };
    this.options.active.add(provisioning);
    try {
      // One retry: the first attempt may find the bound sandbox gone; the second runs on a fresh one.
      for (let attempt = 0; attempt < 2; attempt++) {
        const binding = await sessions.ensureSandbox(session, tenant);
        const turnNumber = session.turns + 1;
        const turn = await this.openTurn(binding, sessionId, prompt, { turn: turnNumber, signal: abort.signal });
        if (cutReason !== undefined) {
          if (turn.kind === 'stream') turn.response.destroy();
          throw new BerthError('draining', cutReason, { retryAfterS: 1 });
        }
        if (turn.kind === 'busy') throw new BerthError('turn_in_progress', 'wait for the running turn to end, or follow it with GET /sessions/{id}/events');
        if (turn.kind === 'failed') throw new BerthError('sandbox_failed', turn.detail);
        if (turn.kind === 'lost') {
          metrics.sandboxesLost.inc({ reason: 'unreachable' });
          await sessions.dropSandbox(sessionId, binding, turn.reason);
          session = { ...session, sandbox: null };
          continue;
        }
        const first: LoggedFrame = { id: frameId(turnNumber, 0), event: 'turn', data: JSON.stringify({ sessionId, turn: turnNumber }) };
        try {
          // The turn's three writes before the caller's response head go out together (one round
          // trip of latency, not three): they touch different keys and none reads another's
          // result. Any failure fails the turn before a caller saw it, as one at a time would.
          await Promise.all([
            store.sessions.updateSession(sessionId, { turns: turnNumber }),
            ledger.begin(sessionId, turnNumber, this.options.owner, this.options.leaseMs, this.options.now()),
            // The stream's first frame: every accepted stream is resumable from its first byte.
            events.append(sessionId, [first]),
          ]);
        } catch (error) {
          turn.response.destroy();
          throw error;
        }
        this.publishStart(tenant.name, sessionId, turnNumber);
        this.detach(tenant, session, binding, turnNumber, turn.response, turnSlot);
        return { kind: 'started', turn: turnNumber, first };
      }
      throw new BerthError('sandbox_failed', 'the sandbox was lost twice while starting the turn; retry');
    } finally {
      this.options.active.delete(provisioning);
    }
  }

  private detach(tenant: Tenant, session: SessionRecord, binding: SandboxBinding, turn: number, upstream: Readable, turnSlot: TurnSlot): void {
    const { sessions, quotas, metrics } = this.options;
    const stop = new AbortController();
    const active: ActiveTurn = { cut: () => stop.abort() };
    this.options.active.add(active);
    metrics.streamsOpen.inc();
    const relay = runTurnTask(this.options, {
      tenant: tenant.name,
      sessionId: session.id,
      turn,
      binding,
      sdkSessionId: session.sdkSessionId,
      upstream,
      afterSeq: 0,
      lostCode: 'sandbox_lost',
      signal: stop.signal,
    })
      .then(async (end) => {
        if (end.kind === 'ended' && end.sandboxLost) {
          metrics.sandboxesLost.inc({ reason: 'mid_turn' });
          await sessions.dropSandbox(session.id, binding, 'stream broke mid-turn');
          await quotas.sessionReleased(tenant, session.id);
        } else {
          // The session's slot lives on from its last use (the reaper's idle clock restarts too).
          await quotas.sessionTouched(tenant, { ...session, sandbox: binding });
        }
      })
      .catch((error: unknown) => this.options.log.error({ err: error, session: session.id, turn }, 'turn relay failed'))
      .finally(async () => {
        metrics.streamsOpen.dec();
        this.options.active.delete(active);
        await turnSlot.release().catch(() => undefined);
        this.relays.delete(relay);
      });
    this.relays.add(relay);
  }

  private publishStart(tenant: string, sessionId: string, turn: number): void {
    try {
      this.options.sessionEvents.publish({ type: 'session.status_changed', tenant, sessionId, status: 'running', turn, stopReason: null, at: this.options.now() });
    } catch (error) {
      this.options.log.warn({ err: error, session: sessionId }, 'session event sink threw');
    }
  }
}

/** The record a first message would create, for the session-slot check that precedes creating it. */
function unbound(tenant: Tenant, sessionId: string): SessionRecord {
  return { id: sessionId, tenant: tenant.name, profile: tenant.sandboxProfile, sandbox: null, sdkSessionId: null, createdAt: 0, lastActivityAt: 0, turns: 0 };
}
