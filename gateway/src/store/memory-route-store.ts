// MemoryRouteStore: the embedded default RouteStore, for one gateway process. Everything lives
// in Maps; every method completes synchronously inside its promise, so each is atomic with
// respect to the others (the event loop is the lock). Several replicas need RedisRouteStore.

import { randomUUID } from 'node:crypto';
import type { SseFrame, StoredTranscriptEntry } from '@berth/protocol';
import {
  DEFAULT_ROUTE_STORE_LIMITS,
  emptyUsage,
  pageLimit,
  type CreateResult,
  type LeaseKind,
  type LeaseResult,
  type RateTake,
  type Ownership,
  type ReplayResult,
  type RouteStore,
  type RouteStoreLimits,
  type SandboxBinding,
  type SessionPage,
  type SessionPatch,
  type SessionRecord,
  type Standby,
  type TokenUsage,
  type UsageReport,
} from './route-store.js';

interface Lock {
  token: string;
  expiresAt: number;
}

interface ReplayBuffer {
  frames: Array<SseFrame & { id: string }>;
  expiresAt: number;
}

export interface MemoryRouteStoreOptions {
  limits?: Partial<RouteStoreLimits>;
  now?: () => number;
}

export class MemoryRouteStore implements RouteStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly locks = new Map<string, Lock>();
  private readonly transcripts = new Map<string, { entries: StoredTranscriptEntry[]; uuids: Set<string> }>();
  private readonly replays = new Map<string, ReplayBuffer>();
  private readonly standbys = new Map<string, Standby[]>();
  private readonly usage = new Map<string, UsageReport>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** `${kind}\0${tenant}` → holder → expiry (ms on this store's clock). */
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly limits: RouteStoreLimits;
  private readonly now: () => number;

  constructor(options: MemoryRouteStoreOptions = {}) {
    this.limits = { ...DEFAULT_ROUTE_STORE_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
  }

  async checkAndTouch(sessionId: string, tenant: string, now: number): Promise<Ownership> {
    const session = this.sessions.get(sessionId);
    if (!session) return { kind: 'absent' };
    if (session.tenant !== tenant) return { kind: 'forbidden' };
    session.lastActivityAt = Math.max(session.lastActivityAt, now);
    return { kind: 'owned', session: structuredClone(session) };
  }

  async createSession(record: SessionRecord): Promise<CreateResult> {
    const existing = this.sessions.get(record.id);
    if (existing) {
      return existing.tenant === record.tenant ? { kind: 'owned', session: structuredClone(existing) } : { kind: 'forbidden' };
    }
    this.sessions.set(record.id, structuredClone(record));
    return { kind: 'created', session: structuredClone(record) };
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    const session = this.sessions.get(sessionId);
    return session ? structuredClone(session) : null;
  }

  async listSessions(tenant: string): Promise<SessionRecord[]> {
    return [...this.sessions.values()]
      .filter((s) => s.tenant === tenant)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((s) => structuredClone(s));
  }

  async listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage> {
    const limit = pageLimit(page.limit);
    const ids = [...this.sessions.keys()].filter((id) => page.cursor === null || id > page.cursor).sort();
    const sessions = ids.slice(0, limit).map((id) => structuredClone(this.sessions.get(id)!));
    return { sessions, nextCursor: ids.length > limit ? sessions[sessions.length - 1]!.id : null };
  }

  async deleteSession(sessionId: string): Promise<SessionRecord | null> {
    const session = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    this.locks.delete(sessionId);
    this.transcripts.delete(sessionId);
    this.replays.delete(sessionId);
    return session ?? null;
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    if (patch.sdkSessionId !== undefined) session.sdkSessionId = patch.sdkSessionId;
    if (patch.turns !== undefined) session.turns = patch.turns;
  }

  async touch(sessionId: string, now: number): Promise<void> {
    const session = this.sessions.get(sessionId);
    if (session) session.lastActivityAt = Math.max(session.lastActivityAt, now);
  }

  async idleSessions(cutoff: number, limit: number): Promise<string[]> {
    return [...this.sessions.values()]
      .filter((s) => s.sandbox !== null && s.lastActivityAt <= cutoff)
      .sort((a, b) => a.lastActivityAt - b.lastActivityAt)
      .slice(0, limit)
      .map((s) => s.id);
  }

  async hasSession(sessionId: string): Promise<boolean> {
    return this.sessions.has(sessionId);
  }

  async acquireLock(sessionId: string, ttlMs: number): Promise<string | null> {
    const held = this.locks.get(sessionId);
    if (held && held.expiresAt > this.now()) return null;
    const token = randomUUID();
    this.locks.set(sessionId, { token, expiresAt: this.now() + ttlMs });
    return token;
  }

  async releaseLock(sessionId: string, token: string): Promise<boolean> {
    if (this.locks.get(sessionId)?.token !== token) return false;
    this.locks.delete(sessionId);
    return true;
  }

  async setSandbox(sessionId: string, sandbox: SandboxBinding | null, token: string): Promise<boolean> {
    const lock = this.locks.get(sessionId);
    const session = this.sessions.get(sessionId);
    if (!session || !lock || lock.token !== token || lock.expiresAt <= this.now()) return false;
    session.sandbox = sandbox ? { ...sandbox } : null;
    return true;
  }

  async clearSandbox(sessionId: string, sandboxId: string): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session || session.sandbox?.sandboxId !== sandboxId) return false;
    session.sandbox = null;
    return true;
  }

  async appendTranscript(sessionId: string, entries: StoredTranscriptEntry[]): Promise<number> {
    let transcript = this.transcripts.get(sessionId);
    if (!transcript) {
      transcript = { entries: [], uuids: new Set() };
      this.transcripts.set(sessionId, transcript);
    }
    let appended = 0;
    for (const stored of entries) {
      const uuid = stored.entry.uuid;
      if (uuid !== undefined) {
        if (transcript.uuids.has(uuid)) continue;
        transcript.uuids.add(uuid);
      }
      transcript.entries.push(structuredClone(stored));
      appended++;
    }
    return appended;
  }

  async loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]> {
    return structuredClone(this.transcripts.get(sessionId)?.entries ?? []);
  }

  async appendReplay(sessionId: string, frame: SseFrame & { id: string }): Promise<void> {
    let buffer = this.liveReplay(sessionId);
    if (!buffer) {
      buffer = { frames: [], expiresAt: 0 };
      this.replays.set(sessionId, buffer);
    }
    buffer.frames.push({ ...frame });
    if (buffer.frames.length > this.limits.replayMaxFrames) buffer.frames.splice(0, buffer.frames.length - this.limits.replayMaxFrames);
    buffer.expiresAt = this.now() + this.limits.replayTtlS * 1000;
  }

  async replaySince(sessionId: string, lastEventId: string): Promise<ReplayResult> {
    const frames = this.liveReplay(sessionId)?.frames ?? [];
    const index = frames.findIndex((f) => f.id === lastEventId);
    if (index === -1) return { kind: 'unknown' };
    return { kind: 'frames', frames: frames.slice(index + 1).map((f) => ({ ...f })) };
  }

  async resetReplay(sessionId: string): Promise<void> {
    this.replays.delete(sessionId);
  }

  async addStandby(pool: string, standby: Standby): Promise<void> {
    const list = this.standbys.get(pool) ?? [];
    if (!list.some((s) => s.sandboxId === standby.sandboxId)) list.push({ ...standby });
    this.standbys.set(pool, list);
  }

  async popStandby(pool: string): Promise<Standby | null> {
    return this.standbys.get(pool)?.shift() ?? null;
  }

  async removeStandby(pool: string, sandboxId: string): Promise<boolean> {
    const list = this.standbys.get(pool) ?? [];
    const index = list.findIndex((s) => s.sandboxId === sandboxId);
    if (index === -1) return false;
    list.splice(index, 1);
    return true;
  }

  async listStandbys(pool: string): Promise<Standby[]> {
    return (this.standbys.get(pool) ?? []).map((s) => ({ ...s }));
  }

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void> {
    const report = this.usage.get(tenant) ?? { tenant: emptyUsage(), sessions: {} };
    addInto(report.tenant, usage);
    addInto((report.sessions[sessionId] ??= emptyUsage()), usage);
    this.usage.set(tenant, report);
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    return structuredClone(this.usage.get(tenant) ?? { tenant: emptyUsage(), sessions: {} });
  }

  async takeRateToken(tenant: string, capacity: number, refillPerS: number): Promise<RateTake> {
    const now = this.now();
    const bucket = this.buckets.get(tenant) ?? { tokens: capacity, at: now };
    const elapsedMs = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(capacity, bucket.tokens + (elapsedMs * refillPerS) / 1000);
    bucket.at = now;
    this.buckets.set(tenant, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / refillPerS)) };
  }

  async acquireLease(tenant: string, kind: LeaseKind, holder: string, limit: number, ttlMs: number): Promise<LeaseResult> {
    const key = `${kind}\0${tenant}`;
    const now = this.now();
    const set = this.leases.get(key) ?? new Map<string, number>();
    for (const [h, expiresAt] of set) if (expiresAt <= now) set.delete(h);
    this.leases.set(key, set);
    if (!set.has(holder) && set.size >= limit) return { ok: false, held: set.size };
    set.set(holder, now + ttlMs);
    return { ok: true, held: set.size };
  }

  async releaseLease(tenant: string, kind: LeaseKind, holder: string): Promise<void> {
    this.leases.get(`${kind}\0${tenant}`)?.delete(holder);
  }

  async countBoundSessions(): Promise<number> {
    let count = 0;
    for (const session of this.sessions.values()) if (session.sandbox) count++;
    return count;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  private liveReplay(sessionId: string): ReplayBuffer | undefined {
    const buffer = this.replays.get(sessionId);
    if (buffer && buffer.expiresAt <= this.now()) {
      this.replays.delete(sessionId);
      return undefined;
    }
    return buffer;
  }
}

function addInto(target: TokenUsage, usage: TokenUsage): void {
  target.inputTokens += usage.inputTokens;
  target.outputTokens += usage.outputTokens;
  target.cacheCreationInputTokens += usage.cacheCreationInputTokens;
  target.cacheReadInputTokens += usage.cacheReadInputTokens;
}
