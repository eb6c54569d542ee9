// RedisSessionGate: the SessionGate port as ONE Lua script, so an authenticated request on a
// session costs one Redis round trip whatever the tenant's limits: the rate token (tenant slot),
// the ownership check and activity stamp (route slot), the session-lease renewal (tenant slot)
// and the turn-state read (route slot). The bucket and lease steps are the same Lua functions the
// standalone quota scripts run (redis/redis-scripts.ts QUOTA_LUA_FUNCTIONS).
// The script spans two hash slots, which a single Redis (or one behind Sentinel) runs as is;
// Redis Cluster refuses it (CROSSSLOT), so the composition root gives Cluster deployments the
// PortsSessionGate instead (session-gate.ts: the same steps, one round trip per slot).

import { Cluster } from 'ioredis';
import { decodeRecord } from './redis/redis-codec.js';
import { createRedisClient, DEFAULT_COMMAND_TIMEOUT_MS, runOnRedis, type RedisClient, type RedisConnectionOptions } from './redis/redis-connection.js';
import { DEFAULT_KEY_PREFIX, RedisKeys } from './redis/redis-keys.js';
import { QUOTA_LUA_FUNCTIONS } from './redis/redis-scripts.js';
import { decodeTurnState } from './redis-turn-ledger.js';
import type { GateRequest, GateResult, SessionGate } from './session-gate.js';

/** A limit that admits everyone: a session's own lease renewal is never refused. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * KEYS: record, activity, turnState, bucket, sessionLeases
 * ARGV: tenant, now, sessionId, capacity ('' = no rate limit), refillPerMs, leaseTtlMs ('' = no session limit), noLimit
 * Returns {2, retryAfterMs} (rate limited), {0} absent, {1} forbidden, or {3, record pairs, {s, t, r}}.
 * The order is the contract's: the token is spent first (a refused request touches nothing else).
 */
export const SESSION_GATE_LUA = `${QUOTA_LUA_FUNCTIONS}
local now = nil
if ARGV[4] ~= '' then
  now = serverNowMs()
  local ok, wait = takeToken(KEYS[4], tonumber(ARGV[4]), tonumber(ARGV[5]), now)
  if ok == 0 then return {2, wait} end
end
local owner = redis.call('HGET', KEYS[1], 'tenant')
if not owner then return {0} end
if owner ~= ARGV[1] then return {1} end
local stamp = tonumber(ARGV[2])
if stamp > tonumber(redis.call('HGET', KEYS[1], 'lastActivityAt')) then
  redis.call('HSET', KEYS[1], 'lastActivityAt', ARGV[2])
  redis.call('ZADD', KEYS[2], 'XX', stamp, ARGV[3])
end
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[1], 'sandboxId') == 1 then
  acquireLease(KEYS[5], ARGV[3], tonumber(ARGV[7]), tonumber(ARGV[6]), now or serverNowMs())
end
return {3, redis.call('HGETALL', KEYS[1]), redis.call('HMGET', KEYS[3], 's', 't', 'r')}`;

export interface RedisSessionGateOptions extends RedisConnectionOptions {
  keyPrefix?: string;
  /** Use this client instead of making one (the store's); closed by close() only when made here. */
  client?: RedisClient;
}

type GateCommand = (...args: Array<string | number>) => Promise<unknown>;

export class RedisSessionGate implements SessionGate {
  private readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly keys: RedisKeys;
  private readonly commandTimeoutMs: number;

  constructor(options: RedisSessionGateOptions) {
    this.client = options.client ?? createRedisClient(options);
    if (this.client instanceof Cluster) throw new TypeError('RedisSessionGate spans two hash slots; use PortsSessionGate on Redis Cluster');
    this.ownsClient = !options.client;
    // Failures surface per call (StoreUnavailableError); the event itself needs no handling.
    if (this.ownsClient) this.client.on('error', () => undefined);
    this.keys = new RedisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.client.defineCommand('berthSessionGate', { numberOfKeys: 5, lua: SESSION_GATE_LUA });
  }

  async enter(request: GateRequest): Promise<GateResult> {
    const k = this.keys.session(request.sessionId);
    const rate = request.rate;
    const lease = request.sessionLeaseTtlMs;
    const gate = (this.client as unknown as { berthSessionGate: GateCommand }).berthSessionGate.bind(this.client);
    const reply = (await this.run(() => gate(
      k.record, k.activity, k.turnState, this.keys.tenantRate(request.tenant), this.keys.tenantLeases(request.tenant, 'sessions'),
      request.tenant, request.now, request.sessionId,
      rate ? rate.capacity : '', rate ? rate.refillPerS / 1000 : 0,
      lease !== undefined ? Math.max(1, Math.ceil(lease)) : '', NO_LIMIT,
    ))) as [number, ...unknown[]];
    switch (reply[0]) {
      case 2: return { kind: 'rate_limited', retryAfterMs: Number(reply[1]) };
      case 0: return { kind: 'absent' };
      case 1: return { kind: 'forbidden' };
      default: return { kind: 'owned', session: decodeRecord(reply[1] as string[])!, turn: decodeTurnState((reply[2] ?? []) as Array<string | null>) };
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    return runOnRedis(this.client, this.commandTimeoutMs, command);
  }
}

/** The one-script gate on the store's own connection, or undefined on Redis Cluster (use PortsSessionGate there). */
export function redisSessionGateFor(client: RedisClient, keyPrefix?: string): RedisSessionGate | undefined {
  if (client instanceof Cluster) return undefined;
  return new RedisSessionGate({ client, ...(keyPrefix !== undefined ? { keyPrefix } : {}) });
}
