// RedisWebhookQueue: the WebhookQueue (webhooks/webhook-queue.ts) of every multi-replica
// deployment, so queued deliveries survive a gateway restart and any replica sends them. Each
// operation is one Lua script over four keys of one hash slot (`{webhooks}`), so it is atomic and
// runs unchanged on Redis Cluster:
//   due       sorted set  id → when the delivery is next due (or its lease runs out), epoch ms
//   data      hash        id → the delivery as JSON (immutable once enqueued)
//   attempts  hash        id → attempts claimed so far
//   leases    hash        id → the lease of the claim that holds it (absent = not held)
// One slot for the whole queue puts it on one Cluster master: webhook volume is a few events per
// turn, far below what one Redis serves. Connection policy and error mapping: redis-connection.ts.

import { randomUUID } from 'node:crypto';
import {
  DEFAULT_COMMAND_TIMEOUT_MS, createRedisClient, runOnRedis,
  type RedisClient, type RedisConnectionOptions,
} from './redis/redis-connection.js';
import { DEFAULT_KEY_PREFIX } from './redis/redis-keys.js';
import type { ClaimedWebhookDelivery, NewWebhookDelivery, WebhookQueue } from './webhook-queue.js';

export interface RedisWebhookQueueOptions extends RedisConnectionOptions {
  /** A client to share instead of building one; the queue then does not close it. */
  client?: RedisClient;
  /** Prefix of every key. Default 'berth:'. Must not contain '{' or '}' (hash tags). */
  keyPrefix?: string;
}

const SCRIPTS = {
  berthWebhookEnqueue: {
    numberOfKeys: 3,
    lua: `
-- KEYS: due, data, attempts  ARGV: id, json, dueAt
-- Set-if-absent on id: an enqueue retried after a lost reply does not queue a second copy.
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], 0)
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1`,
  },
  berthWebhookClaim: {
    numberOfKeys: 4,
    lua: `
-- KEYS: due, data, attempts, leases  ARGV: now, limit, leaseMs, leaseBase
-- Taking a delivery and pushing its due time past the lease is one step, so two replicas that
-- claim at once never get the same delivery; a holder that dies is replaced when the lease ends.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local leasedUntil = tonumber(ARGV[1]) + tonumber(ARGV[3])
local out = {}
for i, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[2], id)
  if not json then
    redis.call('ZREM', KEYS[1], id)
  else
    local lease = ARGV[4] .. ':' .. i
    local attempt = redis.call('HINCRBY', KEYS[3], id, 1)
    redis.call('HSET', KEYS[4], id, lease)
    redis.call('ZADD', KEYS[1], leasedUntil, id)
    out[#out + 1] = { json, attempt, lease }
  end
end
return out`,
  },
  berthWebhookAck: {
    numberOfKeys: 4,
    lua: `
-- KEYS: due, data, attempts, leases  ARGV: id, lease
-- Only the current holder removes it: a holder whose lease ran out (another replica has taken
-- the next attempt) must not delete what that attempt is still working on.
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1`,
  },
  berthWebhookReschedule: {
    numberOfKeys: 2,
    lua: `
-- KEYS: due, leases  ARGV: id, lease, dueAt
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1`,
  },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

export class RedisWebhookQueue implements WebhookQueue {
  readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly commandTimeoutMs: number;
  private readonly keys: { due: string; data: string; attempts: string; leases: string };

  constructor(options: RedisWebhookQueueOptions) {
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (/[{}]/.test(prefix)) throw new TypeError(`Redis key prefix must not contain '{' or '}': ${JSON.stringify(prefix)}`);
    const base = `${prefix}{webhooks}`;
    this.keys = { due: `${base}:due`, data: `${base}:data`, attempts: `${base}:attempts`, leases: `${base}:leases` };
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.ownsClient = !options.client;
    this.client = options.client ?? createRedisClient(options);
    // Failures reach callers as StoreUnavailableError; without a listener ioredis prints each one.
    if (this.ownsClient) this.client.on('error', () => undefined);
    for (const [name, definition] of Object.entries(SCRIPTS)) this.client.defineCommand(name, definition);
  }

  async enqueue(delivery: NewWebhookDelivery, dueAt: number): Promise<void> {
    const { id, tenant, url, payload, createdAt } = delivery;
    const k = this.keys;
    await this.script('berthWebhookEnqueue', k.due, k.data, k.attempts, id, JSON.stringify({ id, tenant, url, payload, createdAt }), dueAt);
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
    if (limit < 1) return [];
    const k = this.keys;
    const reply = (await this.script('berthWebhookClaim', k.due, k.data, k.attempts, k.leases, now, limit, leaseMs, randomUUID())) as Array<[string, number, string]>;
    return reply.map(([json, attempt, lease]) => ({ ...(JSON.parse(json) as NewWebhookDelivery), attempt: Number(attempt), lease }));
  }

  async ack(id: string, lease: string): Promise<boolean> {
    const k = this.keys;
    return (await this.script('berthWebhookAck', k.due, k.data, k.attempts, k.leases, id, lease)) === 1;
  }

  async reschedule(id: string, lease: string, dueAt: number): Promise<boolean> {
    return (await this.script('berthWebhookReschedule', this.keys.due, this.keys.leases, id, lease, dueAt)) === 1;
  }

  async size(): Promise<number> {
    return this.run(() => this.client.hlen(this.keys.data));
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  private async run<T>(call: () => Promise<T>): Promise<T> {
    return runOnRedis(this.client, this.commandTimeoutMs, call);
  }

  private script(name: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    // defineCommand adds the method at run time; the cast names what it added.
    const fn = (this.client as unknown as Record<ScriptName, ScriptFn>)[name];
    return this.run(() => fn.apply(this.client, args));
  }
}
