// SandboxBindings in process memory: the lock table beside the records; lock expiry on the
// table's clock. The activity index is a scan here (one process holds few sessions); the
// egress-key index is the table's Map, moved with every binding change (reindexEgressKey).

import { randomUUID } from 'node:crypto';
import { isEgressKeySha256, type SandboxBindings } from '../sandbox-bindings.js';
import type { SandboxBinding } from '../session-records.js';
import { live, reindexEgressKey, type MemorySessionTable } from './memory-session-table.js';

export class MemorySandboxBindings implements SandboxBindings {
  constructor(private readonly table: MemorySessionTable) {}

  async acquireLock(sessionId: string, ttlMs: number): Promise<string | null> {
    const held = this.table.locks.get(sessionId);
    if (held && held.expiresAt > this.table.now()) return null;
    const token = randomUUID();
    this.table.locks.set(sessionId, { token, expiresAt: this.table.now() + ttlMs });
    return token;
  }

  async releaseLock(sessionId: string, token: string): Promise<boolean> {
    if (this.table.locks.get(sessionId)?.token !== token) return false;
    this.table.locks.delete(sessionId);
    return true;
  }

  async setSandbox(sessionId: string, sandbox: SandboxBinding | null, token: string): Promise<boolean> {
    const lock = this.table.locks.get(sessionId);
    const session = live(this.table, sessionId);
    if (!session || !lock || lock.token !== token || lock.expiresAt <= this.table.now()) return false;
    reindexEgressKey(this.table, sessionId, session.sandbox, sandbox);
    session.sandbox = sandbox ? { ...sandbox } : null;
    // A record that got a sandbox is permanent (see SessionRecords).
    if (sandbox) this.table.unboundExpiry.delete(sessionId);
    return true;
  }

  async clearSandbox(sessionId: string, sandboxId: string): Promise<boolean> {
    const session = live(this.table, sessionId);
    if (!session || session.sandbox?.sandboxId !== sandboxId) return false;
    reindexEgressKey(this.table, sessionId, session.sandbox, null);
    session.sandbox = null;
    return true;
  }

  async idleSessions(cutoff: number, limit: number): Promise<string[]> {
    // Only bound records are counted here, and a bound record never expires: no sweep needed.
    return [...this.table.records.values()]
      .filter((s) => s.sandbox !== null && s.lastActivityAt <= cutoff)
      .sort((a, b) => a.lastActivityAt - b.lastActivityAt)
      .slice(0, limit)
      .map((s) => s.id);
  }

  async countBoundSessions(): Promise<number> {
    let count = 0;
    for (const session of this.table.records.values()) if (session.sandbox) count++;
    return count;
  }

  async sessionForEgressKey(keySha256: string): Promise<string | null> {
    if (!isEgressKeySha256(keySha256)) return null;
    const sessionId = this.table.egressKeys.get(keySha256);
    if (sessionId === undefined) return null;
    // The record is the truth (a security control): the Map is kept exact here, but the answer
    // must not depend on that, as it cannot in the Redis store.
    return live(this.table, sessionId)?.sandbox?.egressKeySha256 === keySha256 ? sessionId : null;
  }
}
