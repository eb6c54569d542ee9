// SandboxBindings on Redis. The lock is SET NX PX (expiry on the server's clock, so a crashed
// holder blocks the session at most ttlMs whichever replica asks next); binding and clearing are
// scripts that move the record's sandbox fields and the activity index together.
// The egress-key index (a security control) lives in a slot per key hash (redis-keys.ts), so it
// cannot move inside those scripts: setSandbox writes its entry before the bind script, unbinding
// drops the replaced binding's entry after, and sessionForEgressKey trusts an entry only when the
// record it names holds that very hash. Entries therefore may lag (a failed drop leaves one that
// names nobody) but never grant: the record is the one truth, and it moves atomically.

import { randomUUID } from 'node:crypto';
import { isEgressKeySha256, type SandboxBindings } from '../sandbox-bindings.js';
import type { SandboxBinding } from '../session-records.js';
import { StoreUnavailableError } from '../store-unavailable.js';
import { egressKeyOfSandbox } from './redis-codec.js';
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
    const { client, keys } = this.redis;
    const k = keys.session(sessionId);
    const key = sandbox?.egressKeySha256;
    // Entry first: from the moment the record holds the key, the key is findable. An entry ahead
    // of its binding grants nothing, because the lookup reads the record.
    if (isEgressKeySha256(key)) await this.redis.run(() => client.set(keys.egressKey(key), sessionId));
    const args = sandbox ? ['bind', sandbox.sandboxId, JSON.stringify(sandbox)] : ['unbind', '', ''];
    const reply = await this.redis.script('berthSetSandbox', k.lock, k.record, k.activity, token, ...args, sessionId);
    if (!Array.isArray(reply)) {
      // Refused (stale token, or no record): take the entry back, unless the record holds this key
      // anyway (a refused repeat of a bind that stands), so a wasted claim leaves nothing behind.
      if (isEgressKeySha256(key)) {
        await bestEffort(async () => {
          if ((await this.heldEgressKey(sessionId)) !== key) await dropEntry(this.redis, sessionId, key);
        });
      }
      return false;
    }
    const previous = egressKeyOfSandbox(reply[1]);
    if (previous !== key) await dropEgressKey(this.redis, sessionId, previous);
    return true;
  }

  async clearSandbox(sessionId: string, sandboxId: string): Promise<boolean> {
    const k = this.redis.keys.session(sessionId);
    const reply = await this.redis.script('berthClearSandbox', k.record, k.activity, sandboxId, sessionId);
    if (!Array.isArray(reply)) return false;
    await dropEgressKey(this.redis, sessionId, egressKeyOfSandbox(reply[1]));
    return true;
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

  async sessionForEgressKey(keySha256: string): Promise<string | null> {
    if (!isEgressKeySha256(keySha256)) return null;
    const sessionId = await this.redis.run(() => this.redis.client.get(this.redis.keys.egressKey(keySha256)));
    if (sessionId === null) return null;
    // The cross-check that makes the lookup fail-closed: the entry is only a pointer, the record's
    // current binding decides.
    return (await this.heldEgressKey(sessionId)) === keySha256 ? sessionId : null;
  }

  /** The egress key hash the session's record holds now (undefined: no record, unbound, or keyless). */
  private async heldEgressKey(sessionId: string): Promise<string | undefined> {
    return egressKeyOfSandbox(await this.redis.run(() => this.redis.client.hget(this.redis.keys.session(sessionId).record, 'sandbox')));
  }
}

/**
 * Drops the index entry of a binding that is gone (unbound, replaced, or its session deleted),
 * if the entry still names `sessionId`. Best effort, after the fact: the binding change has
 * happened and must not be reported as failed, and a leftover entry names a session that no longer
 * holds the key, which the lookup's cross-check refuses (it costs its few bytes until then).
 * Known gap, fail-closed: a drop racing a rebind of the same key to the same session can leave
 * that key unfindable. The gateway never rebinds a key: a sandbox whose binding ends is released,
 * and the next claim brings another sandbox with its own key.
 */
export async function dropEgressKey(redis: RedisCommands, sessionId: string, keySha256: string | undefined): Promise<void> {
  if (isEgressKeySha256(keySha256)) await bestEffort(() => dropEntry(redis, sessionId, keySha256));
}

function dropEntry(redis: RedisCommands, sessionId: string, keySha256: string): Promise<unknown> {
  return redis.script('berthDropEgressKey', redis.keys.egressKey(keySha256), sessionId);
}

/** Runs an index cleanup whose failure leaves only an entry the lookup's cross-check refuses. */
async function bestEffort(cleanup: () => Promise<unknown>): Promise<void> {
  try {
    await cleanup();
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
  }
}
