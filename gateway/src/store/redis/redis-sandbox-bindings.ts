// SandboxBindings on Redis. The lock is SET NX PX (expiry on the server's clock, so a crashed
// holder blocks the session at most ttlMs whichever replica asks next); binding and clearing are
// scripts that move the record's sandbox fields and the activity index together.

import { randomUUID } from 'node:crypto';
import type { SandboxBindings } from '../sandbox-bindings.js';
import type { SandboxBinding } from '../session-records.js';
import type { RedisCommands } from './redis-commands.js';
import { ROUTE_SHARDS } from './redis-keys.js';

export class RedisSandboxBindings implements SandboxBindings {
  constructor(private readonly redis: RedisCommands) {}

  async acquireLock(sessionId: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const lock = this.redis.keys.session(sessionId).lock;
    const reply = await this.redis.run(() => this.redis.client.set(lock, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return reply === 'OK' ? token : null;
  }

  async releaseLock(sessionId: string, token: string): Promise<boolean> {
    return (await this.redis.script('berthReleaseLock', this.redis.keys.session(sessionId).lock, token)) === 1;
  }

  async setSandbox(sessionId: string, sandbox: SandboxBinding | null, token: string): Promise<boolean> {
    const k = this.redis.keys.session(sessionId);
    const args = sandbox ? ['bind', sandbox.sandboxId, JSON.stringify(sandbox)] : ['unbind', '', ''];
    return (await this.redis.script('berthSetSandbox', k.lock, k.record, k.activity, token, ...args, sessionId)) === 1;
  }

  async clearSandbox(sessionId: string, sandboxId: string): Promise<boolean> {
    const k = this.redis.keys.session(sessionId);
    return (await this.redis.script('berthClearSandbox', k.record, k.activity, sandboxId, sessionId)) === 1;
  }

  async idleSessions(cutoff: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const { client, keys } = this.redis;
    // Each shard returns at most `limit` of its oldest entries at or before the cutoff, so the
    // cost is what expires (bounded by limit) plus one cheap command per shard, never a scan.
    const replies = await Promise.all(
      Array.from({ length: ROUTE_SHARDS }, (_, shard) =>
        this.redis.run(() => client.zrangebyscore(keys.activityShard(shard), '-inf', cutoff, 'WITHSCORES', 'LIMIT', 0, limit)),
      ),
    );
    const entries: Array<{ id: string; at: number }> = [];
    for (const reply of replies) for (let i = 0; i + 1 < reply.length; i += 2) entries.push({ id: reply[i]!, at: Number(reply[i + 1]) });
    entries.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    return entries.slice(0, limit).map((e) => e.id);
  }

  async countBoundSessions(): Promise<number> {
    const { client, keys } = this.redis;
    // One ZCARD (O(1)) per shard, in parallel: each shard is its own slot on Cluster.
    const counts = await Promise.all(
      Array.from({ length: ROUTE_SHARDS }, (_, shard) => this.redis.run(() => client.zcard(keys.activityShard(shard)))),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }
}
