// Key naming for the Redis store. Every key starts with a configurable prefix (several berth
// installations can share one Redis) and carries a hash tag, so that each Lua script only ever
// touches keys of ONE Redis Cluster hash slot:
// - `{route:<shard>}`: everything of one session (record, lock, transcript, turn state) AND
//   the shard of the activity index (sessions holding a sandbox, scored by last activity) the
//   session is listed in, and the shard's id index (every session id, for the admin listing;
//   sessions created before that index existed are absent from it until recreated).
//   The shard is a hash of the session id. checkAndTouch checks the record
//   and stamps the index in one script, so record and index must share a slot; a per-session
//   `{sessionId}` tag would put the index in another slot (CROSSSLOT in Cluster).
// - `{tenant:<name>}`: the tenant's session index, usage counters, rate bucket and quota leases.
// - `{pool:<name>}`: one standby pool (list of ids + hash of their data).
// - `{egress-key:<sha256>}`: one sandbox egress key's index entry (the session id), in a slot of
//   its own because the egress gateway finds it from the key's hash alone. It never shares a
//   script with the session's keys: single-key commands write and drop it beside the binding
//   scripts, and every read cross-checks the record (redis-sandbox-bindings.ts).
// Names are URI-encoded so a `{` or `}` inside a tenant or pool name can never move the tag.
// This module only names keys; redis-scripts.ts says what is stored under them.

/**
 * Number of activity-index shards (and route hash slots). Fixed, not configurable: every replica
 * must agree on it, and changing it moves every session's keys (existing sessions become
 * invisible). 64 spreads sessions over up to 64 Cluster masters; idleSessions reads 64 sorted
 * sets per call, a constant next to what expires.
 */
export const ROUTE_SHARDS = 64;

/** The default key prefix; `berth:` keeps berth's keys apart from other tenants of a shared Redis. */
export const DEFAULT_KEY_PREFIX = 'berth:';

export interface SessionKeys {
  record: string;
  lock: string;
  transcript: string;
  transcriptUuids: string;
  /** Bytes of transcript stored (a counter string), for the per-session cap. */
  transcriptBytes: string;
  /** The activity-index shard this session belongs to (shared with other sessions of the shard). */
  activity: string;
  /** Every session id of the shard (score 0, read in id order): the admin listing walks these. */
  ids: string;
  /** The session's turn state (TurnLedger: s status, t current turn, r last stop reason). */
  turnState: string;
}

export class RedisKeys {
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    // A brace in the prefix would become the hash tag of every key and break the slot layout.
    if (/[{}]/.test(prefix)) throw new TypeError(`Redis key prefix must not contain '{' or '}': ${JSON.stringify(prefix)}`);
  }

  session(sessionId: string): SessionKeys {
    const base = `${this.prefix}{route:${routeShard(sessionId)}}`;
    const id = encodeURIComponent(sessionId);
    return {
      record: `${base}:session:${id}`,
      lock: `${base}:lock:${id}`,
      transcript: `${base}:transcript:${id}`,
      transcriptUuids: `${base}:transcript-uuids:${id}`,
      transcriptBytes: `${base}:transcript-bytes:${id}`,
      activity: `${base}:activity`,
      ids: `${base}:ids`,
      turnState: `${base}:turn:${id}`,
    };
  }

  activityShard(shard: number): string {
    return `${this.prefix}{route:${shard}}:activity`;
  }

  /** The shard's id index; it shares the shard's slot, so create and delete maintain it atomically. */
  shardIds(shard: number): string {
    return `${this.prefix}{route:${shard}}:ids`;
  }

  tenantSessions(tenant: string): string {
    return `${this.prefix}{tenant:${encodeURIComponent(tenant)}}:sessions`;
  }

  tenantUsage(tenant: string): string {
    return `${this.prefix}{tenant:${encodeURIComponent(tenant)}}:usage`;
  }

  /** The tenant's usage index: every session id of its usage hash (redis-usage-scripts.ts). */
  tenantUsageSessions(tenant: string): string {
    return `${this.prefix}{tenant:${encodeURIComponent(tenant)}}:usage-sessions`;
  }

  /** The tenant's request-rate token bucket (hash: tokens, at). */
  tenantRate(tenant: string): string {
    return `${this.prefix}{tenant:${encodeURIComponent(tenant)}}:rate`;
  }

  /** The tenant's concurrency leases of one kind (sorted set: holder → expiry, server-clock ms). */
  tenantLeases(tenant: string, kind: string): string {
    return `${this.prefix}{tenant:${encodeURIComponent(tenant)}}:leases:${kind}`;
  }

  /** The egress-key index entry of one key hash (a string: the session id; no TTL, a binding may last long). */
  egressKey(keySha256: string): string {
    return `${this.prefix}{egress-key:${encodeURIComponent(keySha256)}}`;
  }

  standbyIds(pool: string): string {
    return `${this.prefix}{pool:${encodeURIComponent(pool)}}:standbys`;
  }

  standbyData(pool: string): string {
    return `${this.prefix}{pool:${encodeURIComponent(pool)}}:standby-data`;
  }
}

/** Which route shard a session id lives in: FNV-1a (32 bit) over its UTF-8 bytes. Stable forever. */
export function routeShard(sessionId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(sessionId, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % ROUTE_SHARDS;
}

/** Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, mod 16384), for checks and tests. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let tagged = key;
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) tagged = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(tagged, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
