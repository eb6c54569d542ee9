// The relay rescuer: a periodic check on every replica for turns whose relaying replica stopped
// renewing its lease (it died, or drained and handed off). It takes such a lease over (atomically:
// one replica wins), re-attaches to the agent after the last frame the event log holds and
// finishes the relay, or, when the agent cannot be reached, writes the one terminal `relay_lost`
// frame. So a reader of a turn's stream waits at most about leaseMs + intervalMs plus one
// re-attach attempt for its terminal frame, never forever.
// Cost while nothing is wrong: one small store read per interval per replica.

import { randomUUID } from 'node:crypto';
import { isTerminalEvent, parseFrameId } from '../store/event-log.js';
import type { ActiveTurn } from './turn-runner.js';
import { runTurnTask, type TurnTaskDeps } from './turn-task.js';
import { frameId } from '../store/event-log.js';

export interface RelayRescuerOptions extends TurnTaskDeps {
  store: TurnTaskDeps['store'];
  /** Check interval, in ms. Default 2 000: with the default 6 s lease, a dead replica's turn resumes within ~8 s. */
  intervalMs?: number;
  /** Leases taken over per check. Default 20: bounds one check's work after a replica with many turns died. */
  batchSize?: number;
  active: Set<ActiveTurn>;
}

export class RelayRescuer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly rescues = new Set<Promise<void>>();

  constructor(private readonly options: RelayRescuerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs ?? 2_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One check; concurrent calls share it. Resolves once the taken-over relays were started. */
  tick(): Promise<void> {
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves when every relay this rescuer took over has ended or handed off. */
  async settled(): Promise<void> {
    while (this.rescues.size > 0) await Promise.allSettled([...this.rescues]);
  }

  private async check(): Promise<void> {
    const { ledger, log, now, owner, leaseMs } = this.options;
    try {
      const taken = await ledger.takeExpired(owner, leaseMs, now(), this.options.batchSize ?? 20);
      for (const { sessionId, turn } of taken) {
        log.warn({ session: sessionId, turn }, 'taking over the relay of a turn whose replica stopped renewing its lease');
        const rescue = this.rescue(sessionId, turn)
          .catch((error: unknown) => log.error({ err: error, session: sessionId, turn }, 'relay take-over failed'))
          .finally(() => this.rescues.delete(rescue));
        this.rescues.add(rescue);
      }
    } catch (error) {
      log.warn({ err: error }, 'relay rescue check failed; retrying next tick');
    }
  }

  private async rescue(sessionId: string, turn: number): Promise<void> {
    const { events, ledger, store } = this.options;
    const session = await store.sessions.getSession(sessionId);
    // What this turn already stored: its last frame's seq, and whether that frame ended it.
    const last = await events.last(sessionId);
    const lastId = last ? parseFrameId(last) : null;
    let afterSeq = lastId && lastId.turn === turn ? lastId.seq : 0;
    if (lastId && lastId.turn > turn) afterSeq = -1;
    if (lastId && lastId.turn === turn) {
      const read = await events.read(sessionId, { at: last! }, 1);
      const frame = read.kind === 'frames' ? read.frames[0] : undefined;
      if (frame && isTerminalEvent(frame.event)) {
        // The relayer stored the terminal frame and died before recording the end.
        const stopReason = (JSON.parse(frame.data) as { stopReason?: string }).stopReason ?? (frame.event === 'done' ? 'end_turn' : 'error:turn_failed');
        await ledger.end(sessionId, turn, stopReason);
        return;
      }
    }
    if (!session?.sandbox || afterSeq < 0) {
      // Nothing to re-attach to: the session or its sandbox is gone, or a later turn began.
      if (afterSeq >= 0) {
        await events.append(sessionId, [{ id: frameId(turn, afterSeq + 1), event: 'error', data: JSON.stringify({ message: 'the replica relaying this turn went away and its sandbox is gone; send the message again', code: 'relay_lost', stopReason: 'error:relay_lost' }) }]);
      }
      await ledger.end(sessionId, turn, 'error:relay_lost');
      return;
    }
    const stop = new AbortController();
    const active: ActiveTurn = { cut: () => stop.abort() };
    this.options.active.add(active);
    try {
      await runTurnTask(this.options, {
        tenant: session.tenant,
        sessionId,
        turn,
        binding: session.sandbox,
        sdkSessionId: session.sdkSessionId,
        upstream: null,
        afterSeq,
        lostCode: 'relay_lost',
        signal: stop.signal,
      });
    } finally {
      this.options.active.delete(active);
    }
  }
}

/** A lease owner id for one gateway process. */
export function replicaOwnerId(): string {
  return randomUUID();
}
