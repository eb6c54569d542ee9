// The state the in-process session ports share: records and provisioning locks live in one
// table, because a binding is a field of its record and setSandbox checks the lock. Every method
// of a memory port completes synchronously inside its promise, so each is atomic with respect to
// the others (the event loop is the lock). Records that never got a sandbox expire lazily: every
// read goes through live(), which drops what is past its time first (listing walks included).
// The record map keeps the listing's sorted indexes itself (memory-session-index.ts). The
// egress-key index is a Map kept beside the records by whoever changes a binding (reindexEgressKey).

import { isEgressKeySha256 } from '../sandbox-bindings.js';
import type { SandboxBinding, SessionRecord } from '../session-records.js';
import { IndexedSessionMap } from './memory-session-index.js';

export interface MemoryLock {
  token: string;
  expiresAt: number;
}

export interface MemorySessionTable {
  readonly records: IndexedSessionMap;
  readonly locks: Map<string, MemoryLock>;
  /** Session id → when its record expires (ms on `now`), for records never bound to a sandbox. */
  readonly unboundExpiry: Map<string, number>;
  /** Lifetime of a never-bound record, in ms; 0 = never expires. */
  readonly unboundTtlMs: number;
  /** Egress key hash → session id, for bindings stored by setSandbox; read only with a record cross-check. */
  readonly egressKeys: Map<string, string>;
  /** Drops what other ports keep under a session (the transcript) on delete. */
  readonly forget: Array<(sessionId: string) => void>;
  readonly now: () => number;
}

export function newSessionTable(now: () => number, unboundTtlMs: number): MemorySessionTable {
  return { records: new IndexedSessionMap(), locks: new Map(), unboundExpiry: new Map(), unboundTtlMs, egressKeys: new Map(), forget: [], now };
}

/**
 * Moves a session's egress-key index entry from the binding it held (`before`) to the one it
 * holds now (`after`, null once unbound or deleted). An entry is dropped only while it still
 * names this session, so one session's unbind never drops another's entry.
 */
export function reindexEgressKey(table: MemorySessionTable, sessionId: string, before: SandboxBinding | null | undefined, after: SandboxBinding | null): void {
  const previous = before?.egressKeySha256;
  const next = after?.egressKeySha256;
  if (previous !== undefined && previous !== next && table.egressKeys.get(previous) === sessionId) table.egressKeys.delete(previous);
  if (isEgressKeySha256(next)) table.egressKeys.set(next, sessionId);
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
