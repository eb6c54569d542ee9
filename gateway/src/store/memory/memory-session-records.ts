// SessionRecords in process memory (see memory-session-table.ts for the atomicity argument).

import type { CreateResult, Ownership, SessionPatch, SessionRecord, SessionRecords } from '../session-records.js';
import { live, reindexEgressKey, type MemorySessionTable } from './memory-session-table.js';

export class MemorySessionRecords implements SessionRecords {
  constructor(private readonly table: MemorySessionTable) {}

  async checkAndTouch(sessionId: string, tenant: string, now: number): Promise<Ownership> {
    const session = live(this.table, sessionId);
    if (!session) return { kind: 'absent' };
    if (session.tenant !== tenant) return { kind: 'forbidden' };
    session.lastActivityAt = Math.max(session.lastActivityAt, now);
    return { kind: 'owned', session: structuredClone(session) };
  }

  async createSession(record: SessionRecord): Promise<CreateResult> {
    const existing = live(this.table, record.id);
    if (existing) {
      return existing.tenant === record.tenant ? { kind: 'owned', session: structuredClone(existing) } : { kind: 'forbidden' };
    }
    this.table.records.set(record.id, structuredClone(record));
    if (!record.sandbox && this.table.unboundTtlMs > 0) this.table.unboundExpiry.set(record.id, this.table.now() + this.table.unboundTtlMs);
    return { kind: 'created', session: structuredClone(record) };
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    const session = live(this.table, sessionId);
    return session ? structuredClone(session) : null;
  }

  async hasSession(sessionId: string): Promise<boolean> {
    return live(this.table, sessionId) !== undefined;
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const session = live(this.table, sessionId);
    if (!session) return;
    if (patch.sdkSessionId !== undefined) session.sdkSessionId = patch.sdkSessionId;
    if (patch.turns !== undefined) session.turns = patch.turns;
  }

  async touch(sessionId: string, now: number): Promise<void> {
    const session = live(this.table, sessionId);
    if (session) session.lastActivityAt = Math.max(session.lastActivityAt, now);
  }

  async deleteSession(sessionId: string): Promise<SessionRecord | null> {
    const session = live(this.table, sessionId);
    reindexEgressKey(this.table, sessionId, session?.sandbox, null);
    this.table.records.delete(sessionId);
    this.table.unboundExpiry.delete(sessionId);
    this.table.locks.delete(sessionId);
    for (const forget of this.table.forget) forget(sessionId);
    return session ?? null;
  }
}
