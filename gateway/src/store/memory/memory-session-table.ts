// The state the in-process session ports share: records and provisioning locks live in one
// table, because a binding is a field of its record and setSandbox checks the lock. Every method
// of a memory port completes synchronously inside its promise, so each is atomic with respect to
// the others (the event loop is the lock).

import type { SessionRecord } from '../session-records.js';

export interface MemoryLock {
  token: string;
  expiresAt: number;
}

export interface MemorySessionTable {
  readonly records: Map<string, SessionRecord>;
  readonly locks: Map<string, MemoryLock>;
  /** Drops what other ports keep under a session (transcript, replay buffer) on delete. */
  readonly forget: Array<(sessionId: string) => void>;
  readonly now: () => number;
}

export function newSessionTable(now: () => number): MemorySessionTable {
  return { records: new Map(), locks: new Map(), forget: [], now };
}
