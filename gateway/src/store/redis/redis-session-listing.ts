// SessionListing on Redis, served from indexes that create and delete already maintain:
// - a tenant's page: the tenant's index (`{tenant:<name>}:sessions`, a sorted set of ids scored
//   by createdAt, written by createSession and deleteSession since the store began, so existing
//   data needs no migration) read by one script from the cursor on (redis-listing-scripts.ts),
//   then the page's records in one more round trip. The script touches only the index key, in
//   the tenant's slot; the records live in their route shards' slots, so they are read as plain
//   single-key commands, never inside a script (CROSSSLOT on Redis Cluster).
// - the all-tenant walk: each route shard's id index, merged. Never a keyspace scan.

import { Cluster } from 'ioredis';
import { DEFAULT_SESSION_PAGE, pageLimit, type SessionListing, type SessionPage, type TenantListingKey, type TenantSessionPage } from '../session-listing.js';
import type { SessionRecord } from '../session-records.js';
import { decodeRecord } from './redis-codec.js';
import type { RedisCommands } from './redis-commands.js';
import { ROUTE_SHARDS } from './redis-keys.js';

export class RedisSessionListing implements SessionListing {
  constructor(private readonly redis: RedisCommands) {}

  async listSessions(tenant: string, page: { after: TenantListingKey | null; limit: number } = { after: null, limit: DEFAULT_SESSION_PAGE }): Promise<TenantSessionPage> {
    const { client, keys } = this.redis;
    const limit = pageLimit(page.limit);
    const indexKey = keys.tenantSessions(tenant);
    const reply = (await this.redis.script('berthTenantPage', indexKey, limit, page.after ? String(page.after.createdAt) : '', page.after?.id ?? '')) as string[];
    const entries: TenantListingKey[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) entries.push({ id: reply[i]!, createdAt: Number(reply[i + 1]) });
    const pageEntries = entries.slice(0, limit);
    const records = await readRecords(this.redis, pageEntries.map((e) => e.id));
    // Entries whose record is gone (expired never-bound, or a deleter failed between its two
    // steps) or now another tenant's (the id expired and was taken) leave the index here.
    const stale = pageEntries.filter((_, i) => records[i]?.tenant !== tenant).map((e) => e.id);
    if (stale.length > 0) await this.redis.run(() => client.zrem(indexKey, ...stale));
    return {
      sessions: records.filter((r): r is SessionRecord => r !== null && r.tenant === tenant),
      // The cursor is the index entry's key, so the next page starts right after this one even
      // when its last record was dropped above.
      next: entries.length > limit ? pageEntries[pageEntries.length - 1]! : null,
    };
  }

  async listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage> {
    const { client, keys } = this.redis;
    const limit = pageLimit(page.limit);
    const from = page.cursor === null ? '-' : `(${page.cursor}`;
    // Each shard's id index is read from the cursor on, limit + 1 ids each: the merged smallest
    // `limit` ids are the page, and more than `limit` in total means another page follows. One
    // command per shard plus one round trip for the page's records, never a keyspace scan.
    const replies = await Promise.all(
      Array.from({ length: ROUTE_SHARDS }, (_, shard) =>
        this.redis.run(() => client.zrangebylex(keys.shardIds(shard), from, '+', 'LIMIT', 0, limit + 1)),
      ),
    );
    const ids = replies.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const pageIds = ids.slice(0, limit);
    const records = await readRecords(this.redis, pageIds);
    // Ids whose record is gone (a never-bound record's TTL ran out) leave their shard's index
    // here, so the index does not keep what expired.
    const stale = pageIds.filter((_, i) => records[i] === null);
    await Promise.all(stale.map((id) => this.redis.run(() => client.zrem(keys.session(id).ids, id))));
    return {
      // A record deleted between the two reads is left out; the cursor still moves past it.
      sessions: records.filter((r): r is SessionRecord => r !== null),
      nextCursor: ids.length > limit ? pageIds[pageIds.length - 1]! : null,
    };
  }
}

/**
 * The records of `ids` (null where absent) in one round trip: one pipeline on a single Redis.
 * On Cluster the records span many slots and nodes, which one ioredis pipeline refuses, so each
 * is its own command; they leave together and the client sends each to its node.
 */
async function readRecords(redis: RedisCommands, ids: string[]): Promise<Array<SessionRecord | null>> {
  if (ids.length === 0) return [];
  const { client, keys } = redis;
  if (client instanceof Cluster) {
    return redis.run(() => Promise.all(ids.map((id) => client.hgetall(keys.session(id).record).then((hash) => decodeRecord(flat(hash))))));
  }
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.hgetall(keys.session(id).record);
  const replies = (await redis.run(() => pipeline.exec())) ?? [];
  return replies.map(([error, hash]) => {
    if (error) throw error;
    return decodeRecord(flat(hash));
  });
}

/** HGETALL's reply (ioredis turns it into an object) as the flat pairs decodeRecord reads. */
function flat(hash: unknown): unknown[] {
  if (Array.isArray(hash)) return hash;
  return hash !== null && typeof hash === 'object' ? Object.entries(hash).flat() : [];
}
