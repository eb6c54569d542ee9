// SessionRecords: the session record itself — who owns it, its profile, its sandbox binding (as
// data), its SDK session id, its turn count and its last activity. The request path reads and
// stamps it here; binding and unbinding a sandbox is SandboxBindings' job (sandbox-bindings.ts),
// listing is SessionListing's (session-listing.ts).
//
// Concurrency contract:
// - checkAndTouch is one atomic step (one Redis round trip, one EVALSHA): ownership check plus
//   activity stamp. It is the only store call an authenticated request on a session makes.
// - createSession is set-if-absent: of N concurrent creators of one id, exactly one gets
//   'created'; the rest see the record (and 'forbidden' if another tenant owns it).
// - Activity stamps never move backwards.
// - A record created without a sandbox expires StoreLimits.unboundTtlS after its creation unless a
//   sandbox is bound first (binding makes it permanent; unbinding later does not re-arm expiry):
//   records of sessions whose first turn never ran do not pile up. An expired record is absent
//   to every method, and its id is free again.
// Errors: expected outcomes are return values; an unreachable store throws StoreUnavailableError.

import type { SandboxBinding as ClaimedBinding } from '@berth/orchestrator';

/** The sandbox a session is bound to: the orchestrator's binding, plus what the gateway learnt at bootstrap. */
export interface SandboxBinding extends ClaimedBinding {
  /**
   * SHA-256 (64 lowercase hex) of the sandbox's own egress key, when its agent reported one at
   * bootstrap: the egress gateway accepts that key only while this binding holds (found through
   * SandboxBindings.sessionForEgressKey). Only the hash is stored: a store dump holds no usable key.
   */
  egressKeySha256?: string;
}

export interface SessionRecord {
  id: string;
  tenant: string;
  /** Sandbox profile the session's sandboxes come from. */
  profile: string;
  /** Current sandbox, or null while none is bound (new, reaped, lost). */
  sandbox: SandboxBinding | null;
  /** The Agent SDK's own session id, once the first turn reported it; used to resume elsewhere. */
  sdkSessionId: string | null;
  createdAt: number;
  lastActivityAt: number;
  /** Completed or started turns. */
  turns: number;
}

export type Ownership =
  | { kind: 'absent' }
  | { kind: 'forbidden' }
  | { kind: 'owned'; session: SessionRecord };

export type CreateResult = { kind: 'created'; session: SessionRecord } | Exclude<Ownership, { kind: 'absent' }>;

export interface SessionPatch {
  sdkSessionId?: string;
  turns?: number;
}

export interface SessionRecords {
  /** Ownership check plus activity stamp, atomically. Does not create. */
  checkAndTouch(sessionId: string, tenant: string, now: number): Promise<Ownership>;
  /**
   * Set-if-absent. Indexes the session under its tenant and, when it has a sandbox, as active;
   * without a sandbox, the record expires unboundTtlS from now unless one is bound first.
   */
  createSession(record: SessionRecord): Promise<CreateResult>;
  getSession(sessionId: string): Promise<SessionRecord | null>;
  /** True when a record exists for the id (sweeps ask this for every sandbox they see). */
  hasSession(sessionId: string): Promise<boolean>;
  /** Patches an existing record; an absent session stays absent. */
  updateSession(sessionId: string, patch: SessionPatch): Promise<void>;
  /** Activity stamp only (a running stream stamps periodically). No-op for an absent session. */
  touch(sessionId: string, now: number): Promise<void>;
  /**
   * Removes the record, its indexes and lock, and everything stored under the session
   * (the transcript), in one step. Usage counters stay. Returns what was removed.
   */
  deleteSession(sessionId: string): Promise<SessionRecord | null>;
}
