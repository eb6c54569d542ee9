// The TurnLedger port: each session's turn status (idle, running, awaiting approval, …, the
// current turn, the last stop reason) and the relay lease of its running turn. The replica that
// relays a turn holds the lease and renews it; when that replica dies the lease expires, and the
// relay rescuer on any replica (sessions/relay-rescuer.ts) takes it over, atomically, so exactly
// one replica finishes the relay (or writes the one `relay_lost` terminal frame).
// Implementations: MemoryTurnLedger and RedisTurnLedger; tests/contracts/store/turn-ledger-contract.ts.
// Times are epoch ms from the caller's clock (`now`); replicas' clocks must agree within a lease.

import type { SessionStatus } from '../session-events.js';

export interface TurnState {
  status: SessionStatus;
  currentTurn: number | null;
  lastStopReason: string | null;
}

export const IDLE_TURN_STATE: TurnState = { status: 'idle', currentTurn: null, lastStopReason: null };

export interface TurnLedger {
  /** Records a turn's start (status running) and gives its relay lease to `owner` until now + leaseMs. */
  begin(sessionId: string, turn: number, owner: string, leaseMs: number, now: number): Promise<void>;
  /** Extends the lease while `owner` holds it for `turn`; false when it lost it (taken over, ended). */
  renew(sessionId: string, turn: number, owner: string, leaseMs: number, now: number): Promise<boolean>;
  /** Sets the status of the running turn (running ↔ awaiting_approval, rescheduling). */
  setStatus(sessionId: string, turn: number, status: SessionStatus): Promise<void>;
  /** Records the turn's end (status idle, the stop reason) and drops its lease. */
  end(sessionId: string, turn: number, stopReason: string): Promise<void>;
  /** Lets the lease lapse now, if `owner` holds it, so another replica takes the relay over at once. */
  handOff(sessionId: string, owner: string): Promise<void>;
  /**
   * Takes over at most `limit` leases that expired at or before `now` (their holder stopped
   * renewing): each becomes `owner`'s until now + leaseMs. Atomic: a lease is taken by one caller.
   */
  takeExpired(owner: string, leaseMs: number, now: number, limit: number): Promise<Array<{ sessionId: string; turn: number }>>;
  get(sessionId: string): Promise<TurnState>;
  /** One state per id, in order (one round trip). */
  getMany(sessionIds: string[]): Promise<TurnState[]>;
  /** Forgets the session (deleted). */
  remove(sessionId: string): Promise<void>;
  close(): Promise<void>;
}
