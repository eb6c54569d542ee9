// RedisRouteStore: the RouteStore of every multi-replica deployment. Each operation that must be
// atomic is one Lua script (redis-scripts.ts) over keys of one hash slot (redis-keys.ts), so it
// runs on a single Redis, behind Sentinel, or on Redis Cluster. Expiry (locks, replay buffers)
// runs on the Redis server's clock, so replicas with skewed clocks agree; callers pass their own
// timestamps for records and activity. Connection policy and error mapping: redis-connection.ts.
// It does not reap or sweep; it answers the questions reapers and sweeps ask.

import { randomUUID } from 'node:crypto';
import type { SseFrame, StoredTranscriptEntry } from '@berth/protocol';
import {
  DEFAULT_ROUTE_STORE_LIMITS, pageLimit,
  type CreateResult, type LeaseKind, type LeaseResult, type Ownership, type RateTake, type ReplayResult, type RouteStore, type RouteStoreLimits,
  type SandboxBinding, type SessionPage, type SessionPatch, type SessionRecord, type Standby, type TokenUsage, type UsageReport,
} from './route-store.js';
import { decodeRecord, decodeReplayFrame, decodeUsage, encodeRecord, encodeReplayFrame, replayIdPrefix, usageArgs } from './redis-codec.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS, createRedisClient, toStoreError, whenReady,
  type RedisClient, type RedisConnectionOptions,
} from './redis-connection.js';
import { DEFAULT_KEY_PREFIX, ROUTE_SHARDS, RedisKeys } from './redis-keys.js';
import { ROUTE_STORE_SCRIPTS, type RouteStoreScript } from './redis-scripts.js';

export interface RedisRouteStoreOptions extends RedisConnectionOptions {
  /**
   * A client to use instead of building one (Cluster, or a shared connection). The store does not
   * close it, and its options are the caller's: apply `failurePolicy()` for berth's behaviour.
   */
  client?: RedisClient;
  /** Prefix of every key. Default 'berth:'. Must not contain '{' or '}' (hash tags). */
  keyPrefix?: string;
  limits?: Partial<RouteStoreLimits>;
}

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

export class RedisRouteStore implements RouteStore {
  readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly keys: RedisKeys;
  private readonly limits: RouteStoreLimits;
  private readonly commandTimeoutMs: number;

  constructor(options: RedisRouteStoreOptions) {
    this.limits = { ...DEFAULT_ROUTE_STORE_LIMITS, ...options.limits };
    if (!(this.limits.replayMaxFrames >= 1)) throw new RangeError('replayMaxFrames must be at least 1');
    if (!(this.limits.replayTtlS > 0)) throw new RangeError('replayTtlS must be positive');
    this.keys = new RedisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.ownsClient = !options.client;
    this.client = options.client ?? createRedisClient(options);
    // Without a listener ioredis prints every connection error; failures reach callers as
    // StoreUnavailableError instead, and ping() feeds /readyz.
    if (this.ownsClient) this.client.on('error', () => undefined);
    for (const [name, definition] of Object.entries(ROUTE_STORE_SCRIPTS)) this.client.defineCommand(name, definition);
  }

  async checkAndTouch(sessionId: string, tenant: string, now: number): Promise<Ownership> {
    const k = this.keys.session(sessionId);
    const reply = await this.script('berthCheckAndTouch', k.record, k.activity, tenant, now, sessionId);
    if (reply === 0) return { kind: 'absent' };
    if (reply === 1) return { kind: 'forbidden' };
    return { kind: 'owned', session: decodeRecord(reply)! };
  }

  async createSession(record: SessionRecord): Promise<CreateResult> {
    const k = this.keys.session(record.id);
    const reply = await this.script('berthCreateSession', k.record, k.activity, k.ids, record.id, record.tenant, record.lastActivityAt, ...encodeRecord(record));
    if (reply === 1) return { kind: 'forbidden' };
    // The tenant index lives in the tenant's slot, so it is a second command. It is also written
    // on 'owned', which repairs an index entry lost when a creator failed between the two.
    await this.run(() => this.client.zadd(this.keys.tenantSessions(record.tenant), 'NX', record.createdAt, record.id));
    if (reply === 0) return { kind: 'created', session: structuredClone(record) };
    return { kind: 'owned', session: decodeRecord(reply)! };
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    return decodeRecord(await this.run(() => this.client.hgetall(this.keys.session(sessionId).record).then(flatten)));
  }

  async listSessions(tenant: string): Promise<SessionRecord[]> {
    const indexKey = this.keys.tenantSessions(tenant);
    const ids = await this.run(() => this.client.zrevrange(indexKey, 0, -1));
    const records = await Promise.all(ids.map((id) => this.getSession(id)));
    // Entries whose record is gone (a deleter failed between its two steps) are dropped here.
    const stale = ids.filter((_, i) => records[i] === null);
    if (stale.length > 0) await this.run(() => this.client.zrem(indexKey, ...stale));
    return records.filter((r): r is SessionRecord => r !== null && r.tenant === tenant);
  }

  async listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage> {
    const limit = pageLimit(page.limit);
    const from = page.cursor === null ? '-' : `(${page.cursor}`;
    // Each shard's id index is read from the cursor on, limit + 1 ids each: the merged smallest
    // `limit` ids are the page, and more than `limit` in total means another page follows. One
    // command per shard plus one read per returned record, never a keyspace scan.
    const replies = await Promise.all(
      Array.from({ length: ROUTE_SHARDS }, (_, shard) =>
        this.run(() => this.client.zrangebylex(this.keys.shardIds(shard), from, '+', 'LIMIT', 0, limit + 1)),
      ),
    );
    const ids = replies.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const pageIds = ids.slice(0, limit);
    const records = await Promise.all(pageIds.map((id) => this.getSession(id)));
    return {
      // A record deleted between the two reads is left out; the cursor still moves past it.
      sessions: records.filter((r): r is SessionRecord => r !== null),
      nextCursor: ids.length > limit ? pageIds[pageIds.length - 1]! : null,
    };
  }

  async deleteSession(sessionId: string): Promise<SessionRecord | null> {
    const k = this.keys.session(sessionId);
    const record = decodeRecord(
      await this.script('berthDeleteSession', k.record, k.activity, k.lock, k.transcript, k.transcriptUuids, k.replay, k.ids, sessionId),
    );
    if (record) await this.run(() => this.client.zrem(this.keys.tenantSessions(record.tenant), sessionId));
    return record;
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const fields: string[] = [];
    if (patch.sdkSessionId !== undefined) fields.push('sdkSessionId', patch.sdkSessionId);
    if (patch.turns !== undefined) fields.push('turns', String(patch.turns));
    if (fields.length > 0) await this.script('berthUpdateSession', this.keys.session(sessionId).record, ...fields);
  }

  async touch(sessionId: string, now: number): Promise<void> {
    const k = this.keys.session(sessionId);
    await this.script('berthTouch', k.record, k.activity, now, sessionId);
  }

  async idleSessions(cutoff: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    // Each shard returns at most `limit` of its oldest entries at or before the cutoff, so the
    // cost is what expires (bounded by limit) plus one cheap command per shard, never a scan.
    const replies = await Promise.all(
      Array.from({ length: ROUTE_SHARDS }, (_, shard) =>
        this.run(() => this.client.zrangebyscore(this.keys.activityShard(shard), '-inf', cutoff, 'WITHSCORES', 'LIMIT', 0, limit)),
      ),
    );
    const entries: Array<{ id: string; at: number }> = [];
    for (const reply of replies) for (let i = 0; i + 1 < reply.length; i += 2) entries.push({ id: reply[i]!, at: Number(reply[i + 1]) });
    entries.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    return entries.slice(0, limit).map((e) => e.id);
  }

  async hasSession(sessionId: string): Promise<boolean> {
    return (await this.run(() => this.client.exists(this.keys.session(sessionId).record))) === 1;
  }

  async acquireLock(sessionId: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    // SET NX PX: the expiry runs on the server's clock, so a crashed holder never blocks the
    // session for longer than ttlMs whichever replica asks next.
    const reply = await this.run(() => this.client.set(this.keys.session(sessionId).lock, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return reply === 'OK' ? token : null;
  }

  async releaseLock(sessionId: string, token: string): Promise<boolean> {
    return (await this.script('berthReleaseLock', this.keys.session(sessionId).lock, token)) === 1;
  }

  async setSandbox(sessionId: string, sandbox: SandboxBinding | null, token: string): Promise<boolean> {
    const k = this.keys.session(sessionId);
    const args = sandbox ? ['bind', sandbox.sandboxId, JSON.stringify(sandbox)] : ['unbind', '', ''];
    return (await this.script('berthSetSandbox', k.lock, k.record, k.activity, token, ...args, sessionId)) === 1;
  }

  async clearSandbox(sessionId: string, sandboxId: string): Promise<boolean> {
    const k = this.keys.session(sessionId);
    return (await this.script('berthClearSandbox', k.record, k.activity, sandboxId, sessionId)) === 1;
  }

  async appendTranscript(sessionId: string, entries: StoredTranscriptEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const k = this.keys.session(sessionId);
    const args = entries.flatMap((e) => [e.entry.uuid === undefined ? '-' : `u:${e.entry.uuid}`, JSON.stringify(e)]);
    return Number(await this.script('berthAppendTranscript', k.transcript, k.transcriptUuids, ...args));
  }

  async loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]> {
    const items = await this.run(() => this.client.lrange(this.keys.session(sessionId).transcript, 0, -1));
    return items.map((item) => JSON.parse(item) as StoredTranscriptEntry);
  }

  async appendReplay(sessionId: string, frame: SseFrame & { id: string }): Promise<void> {
    const ttlMs = Math.max(1, Math.ceil(this.limits.replayTtlS * 1000));
    await this.script('berthAppendReplay', this.keys.session(sessionId).replay, encodeReplayFrame(frame), this.limits.replayMaxFrames, ttlMs);
  }

  async replaySince(sessionId: string, lastEventId: string): Promise<ReplayResult> {
    const reply = (await this.script('berthReplaySince', this.keys.session(sessionId).replay, replayIdPrefix(lastEventId))) as unknown[];
    if (reply[0] !== 1) return { kind: 'unknown' };
    return { kind: 'frames', frames: reply.slice(1).map((e) => decodeReplayFrame(String(e))) };
  }

  async resetReplay(sessionId: string): Promise<void> {
    await this.run(() => this.client.del(this.keys.session(sessionId).replay));
  }

  async addStandby(pool: string, standby: Standby): Promise<void> {
    await this.script('berthAddStandby', this.keys.standbyIds(pool), this.keys.standbyData(pool), standby.sandboxId, standby.data);
  }

  async popStandby(pool: string): Promise<Standby | null> {
    const reply = (await this.script('berthPopStandby', this.keys.standbyIds(pool), this.keys.standbyData(pool))) as string[] | null;
    return reply ? { sandboxId: reply[0]!, data: reply[1]! } : null;
  }

  async removeStandby(pool: string, sandboxId: string): Promise<boolean> {
    return (await this.script('berthRemoveStandby', this.keys.standbyIds(pool), this.keys.standbyData(pool), sandboxId)) === 1;
  }

  async listStandbys(pool: string): Promise<Standby[]> {
    const flat = (await this.script('berthListStandbys', this.keys.standbyIds(pool), this.keys.standbyData(pool))) as string[];
    const out: Standby[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ sandboxId: flat[i]!, data: flat[i + 1]! });
    return out;
  }

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void> {
    await this.script('berthAddUsage', this.keys.tenantUsage(tenant), ...usageArgs(sessionId, usage));
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    return decodeUsage(await this.run(() => this.client.hgetall(this.keys.tenantUsage(tenant))));
  }

  async takeRateToken(tenant: string, capacity: number, refillPerS: number): Promise<RateTake> {
    const reply = (await this.script('berthTakeRateToken', this.keys.tenantRate(tenant), capacity, refillPerS / 1000)) as number[];
    return reply[0] === 1 ? { ok: true, remaining: Number(reply[2]) } : { ok: false, retryAfterMs: Number(reply[1]) };
  }

  async acquireLease(tenant: string, kind: LeaseKind, holder: string, limit: number, ttlMs: number): Promise<LeaseResult> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const reply = (await this.script('berthAcquireLease', this.keys.tenantLeases(tenant, kind), holder, limit, ttl)) as number[];
    return { ok: reply[0] === 1, held: Number(reply[1]) };
  }

  async releaseLease(tenant: string, kind: LeaseKind, holder: string): Promise<void> {
    await this.run(() => this.client.zrem(this.keys.tenantLeases(tenant, kind), holder));
  }

  async countBoundSessions(): Promise<number> {
    // One ZCARD (O(1)) per shard, in parallel: each shard is its own slot on Cluster.
    const counts = await Promise.all(
      Array.from({ length: ROUTE_SHARDS }, (_, shard) => this.run(() => this.client.zcard(this.keys.activityShard(shard)))),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    // quit() waits for replies to what is in flight; when Redis is down there is nothing to wait
    // for, and disconnect() also stops the reconnect timer so no handle outlives the store.
    await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  /** Runs one Redis call with the readiness wait and error mapping every method shares. */
  private async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      if (this.client.status !== 'ready') await whenReady(this.client, this.commandTimeoutMs);
      return await call();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  private script(name: RouteStoreScript, ...args: Array<string | number>): Promise<unknown> {
    // defineCommand adds the method at run time; the cast names what it added.
    const fn = (this.client as unknown as Record<RouteStoreScript, ScriptFn>)[name];
    return this.run(() => fn.apply(this.client, args));
  }
}

/** HGETALL's object form, back to the flat pairs decodeRecord reads (the script replies' shape). */
function flatten(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat();
}
