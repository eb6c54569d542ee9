// The state the in-process session ports share: records and provisioning locks live in one
// table, because a binding is a field of its record and setSandbox checks the lock. Every method
// of a memory port completes synchronously inside its promise, so each is atomic with respect to
// the others (the event loop is the lock). Records that never got a sandbox expire lazily: every
// read goes through live() or sweep(), which drop what is past its time first.

import type { SessionRecord } from '../session-records.js';

export interface MemoryLock {
  token: string;
  expiresAt: number;
}

export interface MemorySessionTable {
  readonly records: Map<string, SessionRecord>;
  readonly locks: Map<string, MemoryLock>;
  /** Session id → when its record expires (ms on `now`), for records never bound to a sandbox. */
  readonly unboundExpiry: Map<string, number>;
  /** Lifetime of a never-bound record, in ms; 0 = never expires. */
  readonly unboundTtlMs: number;
  /** Drops what other ports keep under a session (transcript, replay buffer) on delete. */
  readonly forget: Array<(sessionId: string) => void>;
  readonly now: () => number;
}

export function newSessionTable(now: () => number, unboundTtlMs: number): MemorySessionTable {
  return { records: new Map(), locks: new Map(), unboundExpiry: new Map(), unboundTtlMs, forget: [], now };
}

/** The live record of `sessionId` (an expired never-bound record is dropped and reads as absent). */
export function live(table: MemorySessionTable, sessionId: string): SessionRecord | undefined {
  const expiresAt = table.unboundExpiry.get(sessionId);
  if (expiresAt !== undefined && expiresAt <= table.now()) {
    table.unboundExpiry.delete(sessionId);
    table.records.delete(sessionId);
  }
  return table.records.get(sessionId);
}

/** Drops every expired never-bound record; for readers that walk the whole table. */
export function sweep(table: MemorySessionTable): void {
  for (const sessionId of [...table.unboundExpiry.keys()]) live(table, sessionId);
}
