// Relays one turn's SSE stream from a sandbox's agent server into the session's event log,
// whatever callers do (they read the log: ingress/event-tail.ts). Runs detached from any caller
// connection, on the replica that holds the turn's relay lease:
// - `message`, `approval_request` and `approval_resolved` frames go to the log as `<turn>:<seq>`
//   (seq = the agent's own frame number, so a re-attach asks the agent for what follows the last
//   stored frame);
// - `transcript` frames go to the transcript store (idempotent on entry key) and never to callers;
// - the agent's terminal frame is stored after every transcript batch before it, so a follow-up
//   that lands on a fresh sandbox right after `done` finds every entry of this turn.
// It returns how the upstream ended; the turn task (turn-task.ts) decides what follows.
// While it runs it renews the lease and stamps the session's activity (a long turn is never reaped).

import type { Readable } from 'node:stream';
import { SseParser, type SseFrame, type TranscriptBatch } from '@berth/protocol';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { EventLog } from '../store/event-log.js';
import { frameId } from '../store/event-log.js';
import type { TurnLedger } from '../store/turn-ledger.js';
import { EventWriter, type RelayStore } from './store-writer.js';

/** Where a stream's frames go to one caller (ingress/sse-response.ts implements it over HTTP). */
export interface FrameSink {
  /** True once the terminal frame went out or the caller is gone. */
  readonly ended: boolean;
  /** Writes a non-terminal frame. */
  send(frame: SseFrame): void;
  /** Writes the one terminal frame and ends the stream; later calls are no-ops (false). */
  finish(frame: SseFrame & { event: 'done' | 'error' }): boolean;
}

export interface RelayOptions {
  sessionId: string;
  turn: number;
  /** The SDK session id the store knows already (null on a first turn). */
  sdkSessionId: string | null;
  upstream: Readable;
  /** Agent frames up to this seq are stored already (a re-attach may send them again). */
  afterSeq: number;
  events: EventLog;
  store: RelayStore;
  ledger: TurnLedger;
  /** This replica's lease owner id. */
  owner: string;
  leaseMs: number;
  log: Logger;
  metrics: GatewayMetrics;
  now: () => number;
  /**
   * Activity stamp interval while relaying, in ms. Default 3 000: a third of the smallest idle
   * timeout config allows (BERTH_IDLE_TIMEOUT_S ≥ 10), so no reaper on any replica ever sees a
   * relaying session as idle. One small write per turn every 3 s.
   */
  touchIntervalMs?: number;
  /** Aborted to stop relaying without ending the turn (drain hands the lease to another replica). */
  signal?: AbortSignal;
  /** Status changes the relay sees (awaiting_approval ↔ running). */
  onStatus?: (status: 'running' | 'awaiting_approval') => void;
}

export type RelayEnd =
  /** The agent's terminal frame is stored. */
  | { kind: 'ended'; event: 'done' | 'error'; stopReason: string; sdkSessionId: string | null; lastSeq: number }
  /** The upstream ended without a terminal frame (sandbox lost, or a connection blip). */
  | { kind: 'broken'; lastSeq: number; sdkSessionId: string | null }
  /** Relaying stopped on purpose (drain) or the lease went to another replica. */
  | { kind: 'stopped'; lastSeq: number };

export async function relayTurn(options: RelayOptions): Promise<RelayEnd> {
  const { sessionId, turn, upstream, store, ledger, log, now } = options;
  const writer = new EventWriter(options.events, store, sessionId, log);
  const parser = new SseParser();
  let lastSeq = options.afterSeq;
  let counter = options.afterSeq;
  let knownSdkSessionId = options.sdkSessionId;
  let end: RelayEnd | undefined;
  let leaseLost = false;
  const touch = setInterval(() => void store.sessions.touch(sessionId, now()).catch(() => undefined), options.touchIntervalMs ?? 3_000);
  touch.unref();
  // A third of the lease: two renewals may fail (a store blip) before another replica takes over.
  const renew = setInterval(() => {
    ledger.renew(sessionId, turn, options.owner, options.leaseMs, now()).then((held) => {
      if (!held) {
        leaseLost = true;
        upstream.destroy();
      }
    }, () => undefined);
  }, Math.max(50, Math.floor(options.leaseMs / 3)));
  renew.unref();
  const onAbort = (): void => void upstream.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const handle = (frame: SseFrame): void => {
    const numbered = Number(frame.id);
    const seq = Number.isSafeInteger(numbered) && numbered > 0 ? numbered : counter + 1;
    counter = seq;
    if (seq <= lastSeq) return; // Stored before a re-attach.
    lastSeq = seq;
    const event = frame.event ?? 'message';
    const id = frameId(turn, seq);
    switch (event) {
      case 'message':
        writer.frame({ id, event, data: frame.data });
        break;
      case 'approval_request':
      case 'approval_resolved':
        writer.frame({ id, event, data: frame.data });
        options.onStatus?.(event === 'approval_request' ? 'awaiting_approval' : 'running');
        break;
      case 'transcript': {
        const batch = parseJson<TranscriptBatch>(frame.data);
        if (batch && typeof batch.sdkSessionId === 'string' && Array.isArray(batch.entries)) {
          // Known as soon as the first entry is stored, so even a turn-1 crash can be resumed.
          if (batch.sdkSessionId !== knownSdkSessionId) {
            const sdkSessionId = (knownSdkSessionId = batch.sdkSessionId);
            writer.run(() => store.sessions.updateSession(sessionId, { sdkSessionId }));
          }
          writer.transcript(batch);
        }
        break;
      }
      case 'done': {
        const data = parseJson<{ sdkSessionId?: string | null; stopReason?: string }>(frame.data);
        const stopReason = typeof data?.stopReason === 'string' ? data.stopReason.slice(0, 80) : 'end_turn';
        end = { kind: 'ended', event: 'done', stopReason, sdkSessionId: data?.sdkSessionId ?? knownSdkSessionId, lastSeq };
        writer.frame({ id, event: 'done', data: JSON.stringify({ sessionId, turn, stopReason }) });
        break;
      }
      case 'error': {
        const data = parseJson<{ message?: string; code?: string; stopReason?: string }>(frame.data);
        let code = typeof data?.code === 'string' ? data.code.slice(0, 64) : 'turn_failed';
        let stopReason = typeof data?.stopReason === 'string' ? data.stopReason.slice(0, 80) : `error:${code}`;
        // The agent no longer holds the frames after our last one: what it sent meanwhile is lost
        // to this relay, so the turn ends here for callers (its transcript is the agent's own).
        if (code === 'replay_gap') {
          code = 'relay_lost';
          stopReason = 'error:relay_lost';
        }
        const message = typeof data?.message === 'string' ? data.message.slice(0, 2000) : 'the agent reported an error';
        end = { kind: 'ended', event: 'error', stopReason, sdkSessionId: knownSdkSessionId, lastSeq };
        writer.frame({ id, event: 'error', data: JSON.stringify({ message, code, stopReason }) });
        break;
      }
      default:
        break; // Unknown events from a sandbox are not relayed: the caller contract is closed.
    }
  };

  try {
    upstream.setEncoding('utf8');
    for await (const chunk of upstream as AsyncIterable<string>) {
      for (const frame of parser.push(chunk)) {
        handle(frame);
        if (end) break;
      }
      if (end) break;
    }
  } catch (error) {
    log.debug({ err: error, session: sessionId }, 'upstream stream ended abnormally');
  } finally {
    clearInterval(touch);
    clearInterval(renew);
    options.signal?.removeEventListener('abort', onAbort);
  }
  upstream.destroy();
  const { transcriptLost } = await writer.flush();
  if (transcriptLost) log.error({ session: sessionId, turn }, "part of this turn's transcript could not be stored");
  void store.sessions.touch(sessionId, now()).catch(() => undefined);
  if (end) return end;
  if (leaseLost || options.signal?.aborted) return { kind: 'stopped', lastSeq };
  return { kind: 'broken', lastSeq, sdkSessionId: knownSdkSessionId };
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
