// MemoryTurnLedger: the TurnLedger port in process memory (the embedded default).

import type { SessionStatus } from '../session-events.js';
import { IDLE_TURN_STATE, type TurnLedger, type TurnState } from './turn-ledger.js';

interface Lease {
  turn: number;
  owner: string;
  until: number;
}

export class MemoryTurnLedger implements TurnLedger {
  private readonly states = new Map<string, TurnState>();
  private readonly leases = new Map<string, Lease>();

  async begin(sessionId: string, turn: number, owner: string, leaseMs: number, now: number): Promise<void> {
    const previous = this.states.get(sessionId) ?? IDLE_TURN_STATE;
    this.states.set(sessionId, { status: 'running', currentTurn: turn, lastStopReason: previous.lastStopReason });
    this.leases.set(sessionId, { turn, owner, until: now + leaseMs });
  }

  async renew(sessionId: string, turn: number, owner: string, leaseMs: number, now: number): Promise<boolean> {
    const lease = this.leases.get(sessionId);
    if (!lease || lease.owner !== owner || lease.turn !== turn) return false;
    lease.until = now + leaseMs;
    return true;
  }

  async setStatus(sessionId: string, turn: number, status: SessionStatus): Promise<void> {
    const state = this.states.get(sessionId);
    if (state && state.currentTurn === turn) this.states.set(sessionId, { ...state, status });
  }

  async end(sessionId: string, turn: number, stopReason: string): Promise<void> {
    const state = this.states.get(sessionId);
    if (state && state.currentTurn !== null && state.currentTurn !== turn) return;
    this.states.set(sessionId, { status: 'idle', currentTurn: null, lastStopReason: stopReason });
    if (this.leases.get(sessionId)?.turn === turn) this.leases.delete(sessionId);
  }

  async handOff(sessionId: string, owner: string): Promise<void> {
    const lease = this.leases.get(sessionId);
    if (lease?.owner === owner) lease.until = 0;
  }

  async takeExpired(owner: string, leaseMs: number, now: number, limit: number): Promise<Array<{ sessionId: string; turn: number }>> {
    const taken: Array<{ sessionId: string; turn: number }> = [];
    for (const [sessionId, lease] of this.leases) {
      if (taken.length >= limit) break;
      if (lease.until > now) continue;
      lease.owner = owner;
      lease.until = now + leaseMs;
      taken.push({ sessionId, turn: lease.turn });
    }
    return taken;
  }

  async get(sessionId: string): Promise<TurnState> {
    return { ...(this.states.get(sessionId) ?? IDLE_TURN_STATE) };
  }

  async getMany(sessionIds: string[]): Promise<TurnState[]> {
    return Promise.all(sessionIds.map((id) => this.get(id)));
  }

  async remove(sessionId: string): Promise<void> {
    this.states.delete(sessionId);
    this.leases.delete(sessionId);
  }

  async close(): Promise<void> {}
}
