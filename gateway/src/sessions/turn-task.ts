// A turn's relay from its first upstream to its end, detached from every caller: relays
// (turn-relay.ts), re-attaches to the agent's `GET /sessions/{id}/turns/{turn}/stream` after the
// last stored frame when the upstream breaks, and ends the turn in the ledger with its stop
// reason. When the agent cannot be reached again, it writes the one terminal `error` frame
// itself: `sandbox_lost` on the replica that started the turn (the sandbox is dropped, the next
// message re-provisions), `relay_lost` on a replica that took over a dead replica's lease.
// While it re-attaches (the upstream broke, or this replica took the relay over) the session's
// status is `rescheduling`; it returns to `running` (or `awaiting_approval`) once the stream is
// back. A lost sandbox is not replaced mid-turn: re-running half a turn could repeat tool calls
// with side effects, so the turn ends `sandbox_lost` and the next message gets a fresh sandbox.
// The turn runner starts it after the agent accepted a turn; the relay rescuer after a take-over.

import type { Readable } from 'node:stream';
import { openTurnStream, type SandboxBinding } from '@berth/orchestrator';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import { frameId, type EventLog } from '../store/event-log.js';
import type { TurnLedger } from '../store/turn-ledger.js';
import type { SessionEventSink, SessionStatus } from '../session-events.js';
import type { RelayStore } from './store-writer.js';
import { relayTurn } from './turn-relay.js';

/**
 * Re-attaches after a broken upstream, at most this many times per turn. Default 3: a
 * connection blip costs one; a sandbox that keeps cutting its streams is treated as lost.
 */
export const MAX_REATTACHES = 3;

export interface TurnTaskDeps {
  events: EventLog;
  ledger: TurnLedger;
  store: RelayStore;
  log: Logger;
  metrics: GatewayMetrics;
  now: () => number;
  /** This replica's lease owner id. */
  owner: string;
  /** Relay lease lifetime, in ms (renewed every third of it). */
  leaseMs: number;
  sessionEvents: SessionEventSink;
  /** How a broken turn is re-attached. Default openTurnStream (HTTP); tests pass a fake. */
  reattach?: typeof openTurnStream;
}

export interface TurnTask {
  tenant: string;
  sessionId: string;
  turn: number;
  binding: SandboxBinding;
  sdkSessionId: string | null;
  /** The open upstream, or null to re-attach first (a take-over). */
  upstream: Readable | null;
  /** Agent frames up to this seq are stored already. */
  afterSeq: number;
  /** The code of the terminal frame written when the agent cannot be reached again. */
  lostCode: 'sandbox_lost' | 'relay_lost';
  /** Aborted to stop relaying without ending the turn (drain): the lease is handed off. */
  signal: AbortSignal;
}

export type TurnTaskEnd =
  | { kind: 'ended'; stopReason: string; sandboxLost: boolean }
  | { kind: 'handed_off' };

export async function runTurnTask(deps: TurnTaskDeps, task: TurnTask): Promise<TurnTaskEnd> {
  const { events, ledger, log } = deps;
  const reattach = deps.reattach ?? openTurnStream;
  let upstream = task.upstream;
  let afterSeq = task.afterSeq;
  let sdkSessionId = task.sdkSessionId;
  // The status the turn returns to after a re-attach; a take-over reads what the dead relay left.
  let live: 'running' | 'awaiting_approval' = 'running';
  if (!upstream) live = (await ledger.get(task.sessionId).catch(() => null))?.status === 'awaiting_approval' ? 'awaiting_approval' : 'running';
  for (let attempt = 0; attempt <= MAX_REATTACHES; attempt++) {
    if (task.signal.aborted) return handOff(deps, task, upstream);
    if (!upstream) {
      await setStatus(deps, task, 'rescheduling');
      const opened = await reattach(task.binding, task.sessionId, task.turn, { afterSeq, signal: task.signal });
      if (opened.kind !== 'stream') {
        if (task.signal.aborted) return handOff(deps, task, null);
        log.warn({ session: task.sessionId, turn: task.turn, outcome: opened.kind }, 'could not re-attach to the turn');
        break;
      }
      upstream = opened.response;
      await setStatus(deps, task, live);
    }
    const end = await relayTurn({
      sessionId: task.sessionId,
      turn: task.turn,
      sdkSessionId,
      upstream,
      afterSeq,
      events,
      store: deps.store,
      ledger,
      owner: deps.owner,
      leaseMs: deps.leaseMs,
      log,
      metrics: deps.metrics,
      now: deps.now,
      signal: task.signal,
      onStatus: (status) => {
        live = status;
        void setStatus(deps, task, status);
      },
    });
    upstream = null;
    if (end.kind === 'ended') {
      deps.metrics.streamEnds.inc({ outcome: end.event === 'done' ? 'done' : 'agent_error' });
      await finish(deps, task, end.stopReason);
      return { kind: 'ended', stopReason: end.stopReason, sandboxLost: false };
    }
    if (end.kind === 'stopped') return handOff(deps, task, null);
    afterSeq = end.lastSeq;
    sdkSessionId = end.sdkSessionId;
  }
  // The agent is gone (or keeps cutting the stream): the turn ends here, with one terminal frame.
  const code = task.lostCode;
  const message = code === 'sandbox_lost'
    ? 'the sandbox stopped answering mid-turn; send the message again to continue on a fresh sandbox'
    : 'the replica relaying this turn went away and the turn could not be re-attached; send the message again';
  const stopReason = `error:${code}`;
  await events.append(task.sessionId, [{ id: frameId(task.turn, afterSeq + 1), event: 'error', data: JSON.stringify({ message, code, stopReason }) }]).catch((error: unknown) => {
    log.error({ err: error, session: task.sessionId }, 'terminal frame not stored');
  });
  deps.metrics.streamEnds.inc({ outcome: 'broken' });
  await finish(deps, task, stopReason);
  return { kind: 'ended', stopReason, sandboxLost: true };
}

/** Records a status of the running turn and tells the sinks; a store failure only costs the status. */
async function setStatus(deps: TurnTaskDeps, task: TurnTask, status: SessionStatus): Promise<void> {
  try {
    await deps.ledger.setStatus(task.sessionId, task.turn, status);
  } catch {
    return;
  }
  publish(deps, task, 'session.status_changed', status, null);
}

async function finish(deps: TurnTaskDeps, task: TurnTask, stopReason: string): Promise<void> {
  await deps.ledger.end(task.sessionId, task.turn, stopReason).catch((error: unknown) => deps.log.warn({ err: error, session: task.sessionId }, 'turn end not recorded'));
  publish(deps, task, 'session.turn_ended', 'idle', stopReason);
}

async function handOff(deps: TurnTaskDeps, task: TurnTask, upstream: Readable | null): Promise<TurnTaskEnd> {
  upstream?.destroy();
  await deps.ledger.handOff(task.sessionId, deps.owner).catch(() => undefined);
  return { kind: 'handed_off' };
}

function publish(deps: TurnTaskDeps, task: TurnTask, type: 'session.status_changed' | 'session.turn_ended', status: SessionStatus, stopReason: string | null): void {
  try {
    deps.sessionEvents.publish({ type, tenant: task.tenant, sessionId: task.sessionId, status, turn: type === 'session.turn_ended' ? task.turn : task.turn, stopReason, at: deps.now() });
  } catch (error) {
    deps.log.warn({ err: error, session: task.sessionId }, 'session event sink threw');
  }
}
