// SessionRecords on Redis. A record is a hash in its route shard's slot, next to the shard's
// activity index and id index, so check+stamp, create and delete are each one script. The
// tenant's index lives in the tenant's slot: a second command, repaired on read (listing). A
// never-bound record carries a Redis TTL from creation; binding a sandbox PERSISTs it. Deleting
// a bound record also drops its egress-key index entry (redis-sandbox-bindings.ts), after it.

import type { CreateResult, Ownership, SessionPatch, SessionRecord, SessionRecords } from '../session-records.js';
import { decodeRecord, encodeRecord } from './redis-codec.js';
import type { RedisCommands } from './redis-commands.js';
import { dropEgressKey } from './redis-sandbox-bindings.js';

export class RedisSessionRecords implements SessionRecords {
  constructor(
    private readonly redis: RedisCommands,
    /** Lifetime of a never-bound record (StoreLimits.unboundTtlS), in ms; 0 = never expires. */
    private readonly unboundTtlMs: number,
  ) {}

  async checkAndTouch(sessionId: string, tenant: string, now: number): Promise<Ownership> {
    const k = this.redis.keys.session(sessionId);
    const reply = await this.redis.script('berthCheckAndTouch', k.record, k.activity, tenant, now, sessionId);
    if (reply === 0) return { kind: 'absent' };
    if (reply === 1) return { kind: 'forbidden' };
    return { kind: 'owned', session: decodeRecord(reply)! };
  }

  async createSession(record: SessionRecord): Promise<CreateResult> {
    const { keys, client } = this.redis;
    const k = keys.session(record.id);
    const reply = await this.redis.script('berthCreateSession', k.record, k.activity, k.ids, record.id, record.tenant, record.lastActivityAt, this.unboundTtlMs, ...encodeRecord(record));
    if (reply === 1) return { kind: 'forbidden' };
    // The tenant index lives in the tenant's slot, so it is a second command. It is also written
    // on 'owned', which repairs an index entry lost when a creator failed between the two.
    await this.redis.run(() => client.zadd(keys.tenantSessions(record.tenant), 'NX', record.createdAt, record.id));
    if (reply === 0) return { kind: 'created', session: structuredClone(record) };
    return { kind: 'owned', session: decodeRecord(reply)! };
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    return readRecord(this.redis, sessionId);
  }

  async hasSession(sessionId: string): Promise<boolean> {
    return (await this.redis.run(() => this.redis.client.exists(this.redis.keys.session(sessionId).record))) === 1;
  }

  async updateSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const fields: string[] = [];
    if (patch.sdkSessionId !== undefined) fields.push('sdkSessionId', patch.sdkSessionId);
    if (patch.turns !== undefined) fields.push('turns', String(patch.turns));
    if (fields.length > 0) await this.redis.script('berthUpdateSession', this.redis.keys.session(sessionId).record, ...fields);
  }

  async touch(sessionId: string, now: number): Promise<void> {
    const k = this.redis.keys.session(sessionId);
    await this.redis.script('berthTouch', k.record, k.activity, now, sessionId);
  }

  async deleteSession(sessionId: string): Promise<SessionRecord | null> {
    const { keys, client } = this.redis;
    const k = keys.session(sessionId);
    const record = decodeRecord(
      await this.redis.script('berthDeleteSession', k.record, k.activity, k.lock, k.transcript, k.transcriptUuids, k.ids, k.transcriptBytes, sessionId),
    );
    if (record) await this.redis.run(() => client.zrem(keys.tenantSessions(record.tenant), sessionId));
    await dropEgressKey(this.redis, sessionId, record?.sandbox?.egressKeySha256);
    return record;
  }
}

/** One record by id (HGETALL), shared with the listing. */
export async function readRecord(redis: RedisCommands, sessionId: string): Promise<SessionRecord | null> {
  return decodeRecord(await redis.run(() => redis.client.hgetall(redis.keys.session(sessionId).record).then(flatten)));
}

/** HGETALL's object form, back to the flat pairs decodeRecord reads (the script replies' shape). */
function flatten(hash: Record<string, string>): string[] {
  return Object.entries(hash).flat();
}
