// The RouteStore port: where a session lives, who owns it, when it was last active, its
// provisioning lock, its transcript, its SSE replay buffer, and per-tenant usage.
// Implementations: MemoryRouteStore (embedded default, one process) and RedisRouteStore (every
// multi-replica deployment). Both pass tests/contracts/route-store-contract.ts.
//
// Concurrency contract:
// - checkAndTouch is one atomic step (one Redis round trip): ownership check plus activity stamp.
// - createSession is set-if-absent: of N concurrent creators of one id, exactly one gets
//   'created'; the rest see the record (and 'forbidden' if another tenant owns it).
// - The provisioning lock has an owner token: only its holder releases it, and setSandbox with a
//   stale token (the lock expired and was taken by someone else) is refused, so a slow holder can
//   never overwrite a newer holder's sandbox.
// - appendTranscript is idempotent on entry uuid; entries without uuid are always appended.
// Errors: expected outcomes are return values; an unreachable store throws StoreUnavailableError.

import type { StoredTranscriptEntry, SseFrame } from '@berth/protocol';

import type { SandboxBinding } from '@berth/orchestrator';

/** The sandbox a session is bound to: the orchestrator's one sandbox type, stored as is. */
export type { SandboxBinding };

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

export type ReplayResult =
  /** Frames after the given id, in order (possibly none). */
  | { kind: 'frames'; frames: SseFrame[] }
  /** The id is not in the buffer (unknown, expired, or evicted): the caller must be told. */
  | { kind: 'unknown' };

export interface Standby {
  sandboxId: string;
  /** Backend data needed to use it (URL, token, created-at), serialised by the backend. */
  data: string;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

export interface UsageReport {
  tenant: TokenUsage;
  sessions: Record<string, TokenUsage>;
}

/** One page of an all-tenant session listing (admin API). */
export interface SessionPage {
  sessions: SessionRecord[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

/** Most records one listAllSessions page returns: bounds one admin request's store work. */
export const MAX_SESSION_PAGE = 500;

/** One request against a tenant's token bucket (takeRateToken). */
export type RateTake =
  | { ok: true; remaining: number }
  /** Empty: the next token arrives in `retryAfterMs` (at least 1). */
  | { ok: false; retryAfterMs: number };

/** The concurrency a lease set counts: sessions holding a sandbox, or turns streaming. */
export type LeaseKind = 'sessions' | 'turns';

/** `held`: live leases in the set after the call (the refusal's count when not ok). */
export type LeaseResult = { ok: boolean; held: number };

export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StoreUnavailableError';
  }
}

export interface RouteStore {
  /** Ownership check plus activity stamp, atomically. Does not create. */
  checkAndTouch(sessionId: string, tenant: string, now: number): Promise<Ownership>;
  /** Set-if-absent. Indexes the session under its tenant and in the activity index. */
  createSession(record: SessionRecord): Promise<CreateResult>;
  getSession(sessionId: string): Promise<SessionRecord | null>;
  /** Sessions of one tenant, newest first. */
  listSessions(tenant: string): Promise<SessionRecord[]>;
  /**
   * Sessions of every tenant in session-id order (byte order; ids are ASCII), at most `limit`
   * (1..MAX_SESSION_PAGE) with ids strictly after `cursor` (null: from the start). Cursor paging
   * by id is stable while sessions come and go: none is returned twice, and one that exists for
   * the whole walk is returned once. For operators (admin API), not for request paths.
   */
  listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage>;
  /** Removes the record, its indexes, transcript and replay buffer. Returns what was removed. */
  deleteSession(sessionId: string): Promise<SessionRecord | null>;
  updateSession(sessionId: string, patch: SessionPatch): Promise<void>;
  /** Activity stamp only (a running stream stamps periodically). No-op for an absent session. */
  touch(sessionId: string, now: number): Promise<void>;
  /**
   * Ids of sessions that hold a sandbox and whose last activity is at or before `cutoff`, oldest
   * first, at most `limit`. A session whose sandbox is cleared leaves the index (so reaping costs
   * what expires, not what exists) and re-enters it when a sandbox is bound again.
   */
  idleSessions(cutoff: number, limit: number): Promise<string[]>;
  /** True when a record exists for the id (sweeps ask this for every sandbox they see). */
  hasSession(sessionId: string): Promise<boolean>;

  /** Takes the provisioning lock; returns its owner token, or null when another holder has it. */
  acquireLock(sessionId: string, ttlMs: number): Promise<string | null>;
  /** Releases only if `token` still holds it. */
  releaseLock(sessionId: string, token: string): Promise<boolean>;
  /** Binds (or unbinds, with null) the sandbox, only while `token` holds the lock. */
  setSandbox(sessionId: string, sandbox: SandboxBinding | null, token: string): Promise<boolean>;
  /** Unbinds the sandbox if it is still `sandboxId` (no lock needed: compare-and-clear). */
  clearSandbox(sessionId: string, sandboxId: string): Promise<boolean>;

  /** Appends, skipping entries whose uuid is already stored. Returns how many were appended. */
  appendTranscript(sessionId: string, entries: StoredTranscriptEntry[]): Promise<number>;
  loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]>;

  /** Appends one frame (with id) to the session's replay buffer; keeps the newest `maxFrames`. */
  appendReplay(sessionId: string, frame: SseFrame & { id: string }): Promise<void>;
  /** Frames strictly after `lastEventId`. */
  replaySince(sessionId: string, lastEventId: string): Promise<ReplayResult>;
  /** Drops the buffer (a new turn starts a new buffer). */
  resetReplay(sessionId: string): Promise<void>;

  /**
   * Standby pool membership, for backends whose platform has no compare-and-set to claim with
   * (Modal): a claim is popStandby, atomic across replicas. `data` is opaque to the store.
   */
  addStandby(pool: string, standby: Standby): Promise<void>;
  /** Removes and returns the oldest standby, or null when the pool is empty. */
  popStandby(pool: string): Promise<Standby | null>;
  /** Removes one standby by id; false when it was not there (already claimed or removed). */
  removeStandby(pool: string, sandboxId: string): Promise<boolean>;
  listStandbys(pool: string): Promise<Standby[]>;

  addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void>;
  getUsage(tenant: string): Promise<UsageReport>;

  /**
   * Takes one token from the tenant's bucket (capacity `capacity`, refilled continuously at
   * `refillPerS`), atomically across replicas. A full bucket is the starting state. The refill
   * clock is the store's own (Redis TIME), so replicas with skewed clocks share one rate.
   */
  takeRateToken(tenant: string, capacity: number, refillPerS: number): Promise<RateTake>;
  /**
   * Adds (or renews) `holder` in the tenant's lease set of `kind`, expiring `ttlMs` from now on the
   * store's clock. Expired leases are dropped first. A new holder is admitted only while fewer than
   * `limit` live leases exist; a present holder is always renewed (renewal never fails on a full
   * set). Atomic: of N concurrent acquirers on a set with room for k, exactly k are admitted.
   */
  acquireLease(tenant: string, kind: LeaseKind, holder: string, limit: number, ttlMs: number): Promise<LeaseResult>;
  /** Removes `holder` from the set; absent holder is a no-op. */
  releaseLease(tenant: string, kind: LeaseKind, holder: string): Promise<void>;
  /**
   * Sessions that have a sandbox bound (the activity index's size), over all tenants. Bounded cost:
   * one O(1) count per activity shard in Redis, so a metrics scrape may ask it.
   */
  countBoundSessions(): Promise<number>;

  /** Throws StoreUnavailableError when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RouteStoreLimits {
  /** Frames kept per session for Last-Event-ID replay. Default 2000 (~ a long turn's SDK messages). */
  replayMaxFrames: number;
  /** Replay buffer lifetime after its last frame, in seconds. Default 3600. */
  replayTtlS: number;
}

export const DEFAULT_ROUTE_STORE_LIMITS: RouteStoreLimits = { replayMaxFrames: 2000, replayTtlS: 3600 };

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
}

/** A listAllSessions limit clamped to 1..MAX_SESSION_PAGE (a bad or huge limit never means "all"). */
export function pageLimit(limit: number): number {
  return Math.min(MAX_SESSION_PAGE, Math.max(1, Math.floor(limit) || 1));
}
