// RedisTurnLedger: the TurnLedger port on Redis. A session's state is a hash in its route slot
// (`<prefix>{route:<shard>}:turn:<id>`: s status, t current turn, r last stop reason); relay
// leases live together in the `{relay}` slot (a sorted set scored by expiry, and a hash of
// `owner|turn` per session), so renew, hand-off and take-over are each one atomic script.
// begin and remove touch both slots, and getMany many sessions' slots: on Redis Cluster those
// live on different nodes, where ioredis refuses one pipeline, so their commands are sent as
// separate commands together (still one round trip; any command's error fails the call).

import { Cluster } from 'ioredis';
import type { SessionStatus } from '../session-events.js';
import { createRedisClient, DEFAULT_COMMAND_TIMEOUT_MS, runOnRedis, type RedisClient, type RedisConnectionOptions } from './redis/redis-connection.js';
import { DEFAULT_KEY_PREFIX, RedisKeys } from './redis/redis-keys.js';
import { IDLE_TURN_STATE, type TurnLedger, type TurnState } from './turn-ledger.js';

const SCRIPTS = {
  // KEYS: leases, owners. ARGV: sessionId, owner|turn, until.
  berthLeaseRenew: {
    numberOfKeys: 2,
    lua: `if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1`,
  },
  // KEYS: leases, owners. ARGV: sessionId, owner.
  berthLeaseHandOff: {
    numberOfKeys: 2,
    lua: `local held = redis.call('HGET', KEYS[2], ARGV[1])
if held and string.sub(held, 1, #ARGV[2] + 1) == ARGV[2] .. '|' then redis.call('ZADD', KEYS[1], 0, ARGV[1]) end
return 0`,
  },
  // KEYS: leases, owners. ARGV: sessionId, turn. Drops the lease only if it is this turn's.
  berthLeaseEnd: {
    numberOfKeys: 2,
    lua: `local held = redis.call('HGET', KEYS[2], ARGV[1])
if held and string.match(held, '|(%d+)$') == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 0`,
  },
  // KEYS: leases, owners. ARGV: owner, now, until, limit. Returns {sessionId, turn, …}.
  berthLeaseTakeExpired: {
    numberOfKeys: 2,
    lua: `local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, id in ipairs(ids) do
  local held = redis.call('HGET', KEYS[2], id)
  local turn = held and string.match(held, '|(%d+)$')
  if turn then
    redis.call('HSET', KEYS[2], id, ARGV[1] .. '|' .. turn)
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    table.insert(out, id)
    table.insert(out, turn)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out`,
  },
  // KEYS: state. ARGV: turn, status. Only for the running turn.
  berthTurnStatus: {
    numberOfKeys: 1,
    lua: `if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2])
return 1`,
  },
  // KEYS: state. ARGV: turn, stopReason. A later turn's start is never overwritten.
  berthTurnEnd: {
    numberOfKeys: 1,
    lua: `local current = redis.call('HGET', KEYS[1], 't')
if current and current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', 'idle', 'r', ARGV[2])
redis.call('HDEL', KEYS[1], 't')
return 1`,
  },
} as const;

type Script = (...args: Array<string | number>) => Promise<unknown>;

export interface RedisTurnLedgerOptions extends RedisConnectionOptions {
  keyPrefix?: string;
  client?: RedisClient;
}

export class RedisTurnLedger implements TurnLedger {
  private readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly keys: RedisKeys;
  private readonly leases: string;
  private readonly owners: string;
  private readonly commandTimeoutMs: number;

  constructor(options: RedisTurnLedgerOptions) {
    this.client = options.client ?? createRedisClient(options);
    this.ownsClient = !options.client;
    // Failures surface per command (StoreUnavailableError); the event itself needs no handling.
    if (this.ownsClient) this.client.on('error', () => undefined);
    this.keys = new RedisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.leases = `${this.keys.prefix}{relay}:leases`;
    this.owners = `${this.keys.prefix}{relay}:owners`;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    for (const [name, definition] of Object.entries(SCRIPTS)) this.client.defineCommand(name, definition);
  }

  private state(sessionId: string): string {
    return this.keys.session(sessionId).turnState;
  }

  private script(name: keyof typeof SCRIPTS): Script {
    return (this.client as unknown as Record<string, Script>)[name]!.bind(this.client);
  }

  async begin(sessionId: string, turn: number, owner: string, leaseMs: number, now: number): Promise<void> {
    // Two slots, so not one script; sent together, no less atomic than the pipeline it replaces.
    await this.run(() => Promise.all([
      this.client.hset(this.state(sessionId), 's', 'running', 't', String(turn)),
      this.client.hset(this.owners, sessionId, `${owner}|${turn}`),
      this.client.zadd(this.leases, now + leaseMs, sessionId),
    ]));
  }

  async renew(sessionId: string, turn: number, owner: string, leaseMs: number, now: number): Promise<boolean> {
    return (await this.run(() => this.script('berthLeaseRenew')(this.leases, this.owners, sessionId, `${owner}|${turn}`, now + leaseMs))) === 1;
  }

  async setStatus(sessionId: string, turn: number, status: SessionStatus): Promise<void> {
    await this.run(() => this.script('berthTurnStatus')(this.state(sessionId), String(turn), status));
  }

  async end(sessionId: string, turn: number, stopReason: string): Promise<void> {
    await this.run(() => this.script('berthTurnEnd')(this.state(sessionId), String(turn), stopReason));
    await this.run(() => this.script('berthLeaseEnd')(this.leases, this.owners, sessionId, String(turn)));
  }

  async handOff(sessionId: string, owner: string): Promise<void> {
    await this.run(() => this.script('berthLeaseHandOff')(this.leases, this.owners, sessionId, owner));
  }

  async takeExpired(owner: string, leaseMs: number, now: number, limit: number): Promise<Array<{ sessionId: string; turn: number }>> {
    const flat = (await this.run(() => this.script('berthLeaseTakeExpired')(this.leases, this.owners, owner, now, now + leaseMs, limit))) as string[];
    const taken: Array<{ sessionId: string; turn: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) taken.push({ sessionId: flat[i]!, turn: Number(flat[i + 1]) });
    return taken;
  }

  async get(sessionId: string): Promise<TurnState> {
    return (await this.getMany([sessionId]))[0]!;
  }

  async getMany(sessionIds: string[]): Promise<TurnState[]> {
    if (sessionIds.length === 0) return [];
    const { client } = this;
    // One pipeline on a single Redis; on Cluster the sessions' slots span nodes, so one command each.
    const replies = client instanceof Cluster
      ? await this.run(() => Promise.all(sessionIds.map((id) => client.hmget(this.state(id), 's', 't', 'r'))))
      : await this.run(() => {
        const pipeline = client.pipeline();
        for (const id of sessionIds) pipeline.hmget(this.state(id), 's', 't', 'r');
        return pipeline.exec().then(failOnError);
      });
    return replies.map((reply) => decodeTurnState(reply as Array<string | null>));
  }

  async remove(sessionId: string): Promise<void> {
    await this.run(() => Promise.all([this.client.del(this.state(sessionId)), this.client.zrem(this.leases, sessionId), this.client.hdel(this.owners, sessionId)]));
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    return runOnRedis(this.client, this.commandTimeoutMs, command);
  }
}

/** The state hash's [s, t, r] (HMGET order; absent fields null) as a TurnState. */
export function decodeTurnState([s, t, r]: Array<string | null | undefined>): TurnState {
  if (!s) return { ...IDLE_TURN_STATE };
  return { status: s as SessionStatus, currentTurn: t ? Number(t) : null, lastStopReason: r ?? null };
}

function failOnError(replies: Array<[Error | null, unknown]> | null): unknown[] {
  return (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
