// TurnRunner: one caller message from admission to the end of its turn, without HTTP. It orders
// the checks (drain, budget, ownership, turn slot, session slot), creates the session record only
// once the first message is admitted, binds a sandbox (one transparent re-provision when the bound
// one is gone), numbers the turn and relays it to the caller's FrameSink. The route
// (ingress/routes-sessions.ts) maps the typed outcome to HTTP; tests drive run() directly.
// Neighbours: session-service.ts (records and sandboxes), agent-turn.ts (the agent's answer),
// turn-relay.ts (frames and transcript), quotas/ingress-quotas.ts (tenant limits).

import { BerthError } from '@berth/protocol';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { IngressQuotas } from '../quotas/ingress-quotas.js';
import type { SessionRecord } from '../store/session-records.js';
import type { Tenant } from '../tenants/tenant.js';
import { openAgentTurn } from './agent-turn.js';
import type { SessionService } from './session-service.js';
import { relayTurn, type FrameSink, type RelayEnd } from './turn-relay.js';
import type { RelayStore } from './store-writer.js';

/** A turn admitted and not yet ended, so a drain can wait for it and then cut it. */
export interface ActiveTurn {
  /**
   * Ends the caller's stream with one `event: error` (reason given), then aborts the turn; a turn
   * whose stream has not started yet is answered 503 draining instead.
   */
  cut(reason: string): void;
}

export interface TurnRunnerOptions {
  store: RelayStore;
  sessions: Pick<SessionService, 'lookup' | 'create' | 'ensureSandbox' | 'dropSandbox'>;
  quotas: Pick<IngressQuotas, 'checkBudget' | 'admitTurn' | 'admitSession' | 'sessionReleased' | 'sessionTouched'>;
  log: Logger;
  metrics: GatewayMetrics;
  now: () => number;
  /** True once shutdown began: new turns are refused with 503 draining. */
  draining: () => boolean;
  /** Turns admitted and not yet ended (provisioning or streaming); the drain reads it. */
  active: Set<ActiveTurn>;
  /** How a turn is opened on the agent. Default openAgentTurn (HTTP); unit tests pass a fake. */
  openTurn?: typeof openAgentTurn;
}

/** The caller's side of one turn, as the runner needs it. */
export interface TurnCaller {
  /** Aborted when the caller went away. */
  readonly signal: AbortSignal;
  /** Starts the caller's stream (the 200 goes out); called at most once, when the agent accepted. */
  open(): FrameSink;
}

export interface TurnRequest {
  tenant: Tenant;
  sessionId: string;
  prompt: string;
  caller: TurnCaller;
}

export type TurnOutcome =
  /** Nothing was streamed; `error` is the problem to answer (quota, budget, draining, busy, backend). */
  | { kind: 'refused'; error: unknown }
  /** The stream went to the caller and ended with one terminal frame (or the caller left). */
  | { kind: 'streamed'; turn: number; end: RelayEnd['kind'] }
  /** The caller went away before its stream began. */
  | { kind: 'abandoned' };

export class TurnRunner {
  private readonly openTurn: typeof openAgentTurn;

  constructor(private readonly options: TurnRunnerOptions) {
    this.openTurn = options.openTurn ?? openAgentTurn;
  }

  async run(request: TurnRequest): Promise<TurnOutcome> {
    try {
      return await this.admitAndRun(request);
    } catch (error) {
      if (request.caller.signal.aborted && !(error instanceof BerthError && error.code === 'draining')) return { kind: 'abandoned' };
      return { kind: 'refused', error };
    }
  }

  private async admitAndRun(request: TurnRequest): Promise<TurnOutcome> {
    const { tenant, sessionId } = request;
    const { sessions, quotas } = this.options;
    // Refusals that need no record come first, so a refused first message leaves no session behind.
    if (this.options.draining()) throw new BerthError('draining', 'the gateway is shutting down; retry on another replica', { retryAfterS: 1 });
    await quotas.checkBudget(tenant);
    // The one read of the session record in this request (it also stamps activity).
    const existing = await sessions.lookup(tenant, sessionId);
    // Turn slot first (cheap to give back), then the session slot; the finally below returns the
    // turn slot however this request ends, so an aborted or failed turn never leaks one.
    const turnSlot = await quotas.admitTurn(tenant, sessionId);
    try {
      const freshSessionSlot = await quotas.admitSession(tenant, existing ?? unbound(tenant, sessionId));
      try {
        const session = existing ?? (await sessions.create(tenant, sessionId));
        return await this.runAdmitted(request, session);
      } catch (error) {
        // Provisioning failed before a sandbox was bound: give the new slot back, unless a
        // concurrent request on this session bound one meanwhile (then the slot is its).
        if (freshSessionSlot && !(await this.options.store.sessions.getSession(sessionId).catch(() => null))?.sandbox) {
          await quotas.sessionReleased(tenant, sessionId);
        }
        throw error;
      }
    } finally {
      await turnSlot.release();
    }
  }

  private async runAdmitted(request: TurnRequest, admitted: SessionRecord): Promise<TurnOutcome> {
    const { tenant, sessionId, prompt, caller } = request;
    const { store, sessions, quotas, metrics } = this.options;
    let session = admitted;
    const abort = new AbortController();
    // A caller disconnect aborts the turn (the e2e contract: no orphan CLI work). The relay
    // still ends the replay buffer with a terminal frame, so a resuming caller is told.
    const onCallerGone = (): void => abort.abort();
    if (caller.signal.aborted) abort.abort();
    else caller.signal.addEventListener('abort', onCallerGone, { once: true });
    let sink: FrameSink | undefined;
    let cutReason: string | undefined;
    let turnNumber = 0;
    // Registered before provisioning, so a drain waits for a turn still claiming its sandbox too.
    const active: ActiveTurn = {
      cut: (reason: string) => {
        cutReason = reason;
        sink?.finish({ id: `${turnNumber}:cut`, event: 'error', data: JSON.stringify({ message: reason, code: 'draining' }) });
        abort.abort();
      },
    };
    const stopIfAborted = (): boolean => {
      if (!abort.signal.aborted) return false;
      if (cutReason !== undefined) throw new BerthError('draining', cutReason, { retryAfterS: 1 });
      return true;
    };
    this.options.active.add(active);
    try {
      // One retry: the first attempt may find the bound sandbox gone; the second runs on a fresh one.
      for (let attempt = 0; attempt < 2; attempt++) {
        const binding = await sessions.ensureSandbox(session, tenant);
        const turn = await this.openTurn(binding, sessionId, prompt, { signal: abort.signal });
        if (stopIfAborted()) return { kind: 'abandoned' };
        if (turn.kind === 'busy') throw new BerthError('turn_in_progress', 'wait for the running turn to end, or resume its stream with Last-Event-ID');
        if (turn.kind === 'failed') throw new BerthError('sandbox_failed', turn.detail);
        if (turn.kind === 'lost') {
          metrics.sandboxesLost.inc({ reason: 'unreachable' });
          await sessions.dropSandbox(sessionId, binding, turn.reason);
          session = { ...session, sandbox: null };
          continue;
        }
        turnNumber = session.turns + 1;
        await store.sessions.updateSession(sessionId, { turns: turnNumber });
        await store.replay.resetReplay(sessionId);
        if (stopIfAborted()) {
          turn.response.destroy();
          return { kind: 'abandoned' };
        }
        sink = caller.open();
        metrics.streamsOpen.inc();
        try {
          const end = await relayTurn({
            sessionId,
            turn: turnNumber,
            sdkSessionId: session.sdkSessionId,
            upstream: turn.response,
            caller: sink,
            store,
            log: this.options.log,
            metrics,
            now: this.options.now,
            signal: abort.signal,
          });
          if (end.kind === 'broken') {
            metrics.sandboxesLost.inc({ reason: 'mid_turn' });
            await sessions.dropSandbox(sessionId, binding, 'stream broke mid-turn');
            await quotas.sessionReleased(tenant, sessionId);
          } else {
            // The session's slot lives on from its last use (the reaper's idle clock restarts too).
            await quotas.sessionTouched(tenant, { ...session, sandbox: binding }).catch(() => undefined);
          }
          return { kind: 'streamed', turn: turnNumber, end: end.kind };
        } finally {
          metrics.streamsOpen.dec();
        }
      }
      throw new BerthError('sandbox_failed', 'the sandbox was lost twice while starting the turn; retry');
    } catch (error) {
      // A turn cut before its stream began: whatever the abort broke, the answer is "draining".
      if (cutReason !== undefined && !sink) throw new BerthError('draining', cutReason, { retryAfterS: 1 });
      throw error;
    } finally {
      caller.signal.removeEventListener('abort', onCallerGone);
      this.options.active.delete(active);
    }
  }
}

/** The record a first message would create, for the session-slot check that precedes creating it. */
function unbound(tenant: Tenant, sessionId: string): SessionRecord {
  return { id: sessionId, tenant: tenant.name, profile: tenant.sandboxProfile, sandbox: null, sdkSessionId: null, createdAt: 0, lastActivityAt: 0, turns: 0 };
}
