// SessionListing on Redis: the tenant's index (a sorted set by creation time, in the tenant's
// slot) and, for the all-tenant walk, each route shard's id index. Never a keyspace scan.

import { pageLimit, type SessionListing, type SessionPage } from '../session-listing.js';
import type { SessionRecord } from '../session-records.js';
import type { RedisCommands } from './redis-commands.js';
import { ROUTE_SHARDS } from './redis-keys.js';
import { readRecord } from './redis-session-records.js';

export class RedisSessionListing implements SessionListing {
  constructor(private readonly redis: RedisCommands) {}

  async listSessions(tenant: string): Promise<SessionRecord[]> {
    const { client, keys } = this.redis;
    const indexKey = keys.tenantSessions(tenant);
    const ids = await this.redis.run(() => client.zrevrange(indexKey, 0, -1));
    const records = await Promise.all(ids.map((id) => readRecord(this.redis, id)));
    // Entries whose record is gone (a deleter failed between its two steps) are dropped here.
    const stale = ids.filter((_, i) => records[i] === null);
    if (stale.length > 0) await this.redis.run(() => client.zrem(indexKey, ...stale));
    return records.filter((r): r is SessionRecord => r !== null && r.tenant === tenant);
  }

  async listAllSessions(page: { cursor: string | null; limit: number }): Promise<SessionPage> {
    const { client, keys } = this.redis;
    const limit = pageLimit(page.limit);
    const from = page.cursor === null ? '-' : `(${page.cursor}`;
    // Each shard's id index is read from the cursor on, limit + 1 ids each: the merged smallest
    // `limit` ids are the page, and more than `limit` in total means another page follows. One
    // command per shard plus one read per returned record, never a keyspace scan.
    const replies = await Promise.all(
      Array.from({ length: ROUTE_SHARDS }, (_, shard) =>
        this.redis.run(() => client.zrangebylex(keys.shardIds(shard), from, '+', 'LIMIT', 0, limit + 1)),
      ),
    );
    const ids = replies.flat().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const pageIds = ids.slice(0, limit);
    const records = await Promise.all(pageIds.map((id) => readRecord(this.redis, id)));
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
