// Relays one turn's SSE stream from a sandbox's agent server to the caller. Connecting upstream
// happened before (agent-turn.ts), so here the caller's 200 goes out and frames flow:
// - `message` frames pass through verbatim with a gateway id `<turn>:<seq>` (resumable);
// - `transcript` frames never reach the caller: they go to the store (durable sessions);
// - the agent's terminal frame becomes the caller's, and a stream that breaks without one ends
//   with one `event: error` (and the sandbox is dropped, so the next message re-provisions).
// While the stream runs the session's activity is stamped, so a long turn is never reaped.

import type { Readable } from 'node:stream';
import { SseParser, type SseFrame, type TranscriptBatch } from '@berth/protocol';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import { StoreWriter, type RelayStore } from './store-writer.js';

/** Where a turn's frames go to the caller (ingress/sse-response.ts implements it over HTTP). */
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
  caller: FrameSink;
  store: RelayStore;
  log: Logger;
  metrics: GatewayMetrics;
  now: () => number;
  /**
   * Activity stamp interval while streaming, in ms. Default 3 000: a third of the smallest idle
   * timeout config allows (BERTH_IDLE_TIMEOUT_S ≥ 10), so no reaper on any replica ever sees a
   * streaming session as idle. One small write per stream every 3 s.
   */
  touchIntervalMs?: number;
  /**
   * Aborted when the turn was cut on purpose (the caller went away, or a drain): an upstream
   * that ends then is not a lost sandbox. Without it, an ended caller stream counts as the cut.
   */
  signal?: AbortSignal;
}

export type RelayEnd =
  | { kind: 'done'; sdkSessionId: string | null }
  | { kind: 'agent_error'; message: string }
  /** The upstream broke without a terminal frame: the sandbox is presumed lost. */
  | { kind: 'broken' }
  | { kind: 'caller_gone' };

/** Frame ids are `<turn>:<seq>`; unique per session, ordered within a turn. */
export function frameId(turn: number, seq: number): string {
  return `${turn}:${seq}`;
}

export async function relayTurn(options: RelayOptions): Promise<RelayEnd> {
  const { sessionId, turn, upstream, caller, store, log, now } = options;
  const writer = new StoreWriter(store, sessionId, log);
  const parser = new SseParser();
  let seq = 0;
  let knownSdkSessionId = options.sdkSessionId;
  let end: RelayEnd | undefined;
  const touch = setInterval(() => void store.sessions.touch(sessionId, now()).catch(() => undefined), options.touchIntervalMs ?? 3_000);
  touch.unref();

  const emit = (frame: SseFrame & { event: string }): void => {
    const withId = { ...frame, id: frameId(turn, ++seq) };
    writer.replay(withId);
    if (frame.event === 'done' || frame.event === 'error') caller.finish(withId as SseFrame & { event: 'done' | 'error' });
    else caller.send(withId);
  };

  const handle = (frame: SseFrame): void => {
    switch (frame.event ?? 'message') {
      case 'message':
        emit({ event: 'message', data: frame.data });
        break;
      case 'transcript': {
        const batch = parseJson<TranscriptBatch>(frame.data);
        if (batch && typeof batch.sdkSessionId === 'string' && Array.isArray(batch.entries)) {
          // Known as soon as the first entry is stored, so even a turn-1 crash can be resumed.
          if (batch.sdkSessionId !== knownSdkSessionId) {
            const sdkSessionId = (knownSdkSessionId = batch.sdkSessionId);
            writer.run(() => store.sessions.updateSession(sessionId, { sdkSessionId }));
          }
          writer.transcript(batch.entries.map((entry) => ({ sdkSessionId: batch.sdkSessionId, subpath: batch.subpath ?? '', entry })), Array.isArray(batch.keys) ? batch.keys : undefined);
        }
        break;
      }
      case 'done': {
        const data = parseJson<{ sdkSessionId?: string | null }>(frame.data);
        end = { kind: 'done', sdkSessionId: data?.sdkSessionId ?? null };
        break;
      }
      case 'error': {
        const data = parseJson<{ message?: string }>(frame.data);
        end = { kind: 'agent_error', message: typeof data?.message === 'string' ? data.message.slice(0, 2000) : 'the agent reported an error' };
        break;
      }
      default:
        break; // Unknown events from a sandbox are not relayed: the caller contract is closed.
    }
  };

  try {
    upstream.setEncoding('utf8');
    for await (const chunk of upstream as AsyncIterable<string>) {
      for (const frame of parser.push(chunk)) handle(frame);
      if (end) break;
    }
  } catch (error) {
    log.debug({ err: error, session: sessionId }, 'upstream stream ended abnormally');
  } finally {
    clearInterval(touch);
  }
  upstream.destroy();
  const cut = options.signal ? options.signal.aborted : caller.ended;
  if (!end) end = cut ? { kind: 'caller_gone' } : { kind: 'broken' };
  // The transcript is stored before the terminal frame goes out, so a follow-up that lands on a
  // fresh sandbox right after `done` finds every entry of this turn.
  const { transcriptLost } = await writer.flush();
  if (transcriptLost) log.error({ session: sessionId, turn }, "part of this turn's transcript could not be stored");
  if (end.kind === 'done') emit({ event: 'done', data: JSON.stringify({ sessionId, turn }) });
  else if (end.kind === 'agent_error') emit({ event: 'error', data: JSON.stringify({ message: end.message }) });
  else if (end.kind === 'broken') {
    emit({ event: 'error', data: JSON.stringify({ message: 'the sandbox stopped answering mid-turn; send the message again to continue on a fresh sandbox' }) });
  } else {
    // The turn was aborted (caller gone, drain). Nobody may be listening here, but the replay
    // buffer must still end with a terminal frame: without it a caller resuming with
    // Last-Event-ID would tail a turn that never ends (until the resume tail's 1 h limit).
    emit({ event: 'error', data: JSON.stringify({ message: 'the turn was aborted because its stream was cut (the caller disconnected or the gateway is draining); send the message again', code: 'turn_aborted' }) });
  }
  await writer.flush();
  void store.sessions.touch(sessionId, now()).catch(() => undefined);
  options.metrics.streamEnds.inc({ outcome: end.kind });
  return end;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
