// SandboxBindings: which session holds which sandbox. The provisioning lock serialises claims of
// one session across replicas; binding happens only under it; unbinding a lost or reaped sandbox
// is compare-and-clear. The activity index (sessions holding a sandbox, by last activity) is what
// the idle reaper walks and the sessions gauge counts. The egress-key index (key hash → session)
// is what the egress gateway asks on every model or proxy request a sandbox makes.
//
// Concurrency contract:
// - The lock has an owner token: only its holder releases it, and setSandbox with a stale token
//   (the lock expired and was taken by someone else) is refused, so a slow holder can never
//   overwrite a newer holder's sandbox.
// - clearSandbox only unbinds the sandbox it names, so a late "sandbox lost" report never
//   unbinds its replacement.
// - Egress keys (a security control): setSandbox indexes its binding's egressKeySha256; the entry
//   ends when clearSandbox or setSandbox(null) unbinds that binding, setSandbox binds another in
//   its place, or the session is deleted. Only setSandbox indexes: a record created with a binding
//   already in it is not found by its key until setSandbox binds it (the gateway creates records
//   unbound). sessionForEgressKey is fail-closed: it names a session only while that session's
//   record holds exactly that hash, whatever state the index itself is in.
// Errors: expected outcomes are return values; an unreachable store throws StoreUnavailableError.

import type { SandboxBinding } from './session-records.js';

/** The one form of SandboxBinding.egressKeySha256 the index holds and answers: SHA-256 in lowercase hex. */
export { isEgressKeySha256 } from '@berth/protocol';

export interface SandboxBindings {
  /** Takes the provisioning lock; returns its owner token, or null when another holder has it. */
  acquireLock(sessionId: string, ttlMs: number): Promise<string | null>;
  /** Releases only if `token` still holds it. */
  releaseLock(sessionId: string, token: string): Promise<boolean>;
  /** Binds (or unbinds, with null) the sandbox, only while `token` holds the lock. Never creates a record. */
  setSandbox(sessionId: string, sandbox: SandboxBinding | null, token: string): Promise<boolean>;
  /** Unbinds the sandbox if it is still `sandboxId` (no lock needed: compare-and-clear). */
  clearSandbox(sessionId: string, sandboxId: string): Promise<boolean>;
  /**
   * Ids of sessions that hold a sandbox and whose last activity is at or before `cutoff`, oldest
   * first, at most `limit`. A session whose sandbox is cleared leaves the index (so reaping costs
   * what expires, not what exists) and re-enters it when a sandbox is bound again.
   */
  idleSessions(cutoff: number, limit: number): Promise<string[]>;
  /**
   * Sessions that have a sandbox bound (the activity index's size), over all tenants. Bounded cost:
   * one O(1) count per activity shard in Redis, so a metrics scrape may ask it.
   */
  countBoundSessions(): Promise<number>;
  /**
   * The session whose bound sandbox carries this egress key hash (SandboxBinding.egressKeySha256), or null:
   * never bound, or its binding since cleared, replaced, or its session deleted. Answers from the session's
   * record, so a stale index entry can never name a session that no longer holds that key.
   * Anything but 64 lowercase hex digits is null without a store call. Read-only; the answer holds
   * as of the record read (a concurrent unbind may follow it).
   */
  sessionForEgressKey(keySha256: string): Promise<string | null>;
}
