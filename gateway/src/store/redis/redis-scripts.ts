// The Lua scripts behind the Redis store. Each one is a single EVALSHA (ioredis defineCommand
// sends EVAL once per connection, then EVALSHA), so each operation is one round trip and atomic.
// Every script receives only keys of one hash slot (see redis-keys.ts), so all of them run
// unchanged on Redis Cluster. Session records are hashes: id, tenant, profile, createdAt,
// lastActivityAt, turns, sdkSessionId (absent = null), sandbox (JSON, absent = null) and
// sandboxId (a copy of sandbox.sandboxId so compare-and-clear needs no JSON in Lua).
// The activity index holds exactly the sessions that have a sandbox bound (binding adds, unbinding
// removes), so activity stamps use ZADD XX: they move a member, never add one.
// The egress-key index lives in slots of its own, so no session script touches it: the scripts
// that unbind return the binding they replaced, and the port drops that binding's entry after.
// This module holds no connection and no encoding; the redis-*.ts port implementations call these
// through redis-commands.ts.

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

const checkAndTouch = `
-- KEYS: record, activity  ARGV: tenant, now, sessionId
-- Ownership check and activity stamp in one step: a caller sees 'owned' only with its stamp applied.
local owner = redis.call('HGET', KEYS[1], 'tenant')
if not owner then return 0 end
if owner ~= ARGV[1] then return 1 end
local now = tonumber(ARGV[2])
if now > tonumber(redis.call('HGET', KEYS[1], 'lastActivityAt')) then
  redis.call('HSET', KEYS[1], 'lastActivityAt', ARGV[2])
  redis.call('ZADD', KEYS[2], 'XX', now, ARGV[3])
end
return redis.call('HGETALL', KEYS[1])`;

const createSession = `
-- KEYS: record, activity, ids  ARGV: sessionId, tenant, lastActivityAt, unboundTtlMs, field, value, ...
-- Set-if-absent: of concurrent creators exactly one writes; the others read the winner's record.
-- The shard's id index is written in the same step, so a listing never misses a created session.
-- A record without a sandbox expires unboundTtlMs after creation (0 = never) unless a binding
-- makes it permanent first (setSandbox PERSISTs it).
local owner = redis.call('HGET', KEYS[1], 'tenant')
if owner then
  if owner ~= ARGV[2] then return 1 end
  return redis.call('HGETALL', KEYS[1])
end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], 0, ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'sandboxId') == 1 then
  redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[1])
elseif tonumber(ARGV[4]) > 0 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
end
return 0`;

const touch = `
-- KEYS: record, activity  ARGV: now, sessionId. No-op for an absent session (never resurrects it).
local last = redis.call('HGET', KEYS[1], 'lastActivityAt')
if not last then return 0 end
if tonumber(ARGV[1]) > tonumber(last) then
  redis.call('HSET', KEYS[1], 'lastActivityAt', ARGV[1])
  redis.call('ZADD', KEYS[2], 'XX', tonumber(ARGV[1]), ARGV[2])
end
return 1`;

const updateSession = `
-- KEYS: record  ARGV: field, value, ...  Only updates an existing record (no partial records).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

const deleteSession = `
-- KEYS: record, activity, lock, transcript, transcriptUuids, ids, transcriptBytes  ARGV: sessionId
-- (A 'replay:<id>' key left by gateways before the event log carries a TTL and expires alone.)
local record = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5], KEYS[7])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
return record`;

const releaseLock = `
-- KEYS: lock  ARGV: token. Compare-and-delete: a holder whose lock expired and was retaken
-- cannot release the new holder's lock.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const setSandbox = `
-- KEYS: lock, record, activity  ARGV: token, mode ('bind' | 'unbind'), sandboxId, sandboxJson, sessionId
-- Refused unless the token still holds the lock: a slow holder whose lock expired (PX) and was
-- taken by another replica can never overwrite that replica's binding.
-- Returns 0 (refused) or {1, the replaced binding's JSON or ''}, whose egress-key entry the caller drops.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local last = redis.call('HGET', KEYS[2], 'lastActivityAt')
if not last then return 0 end
local previous = redis.call('HGET', KEYS[2], 'sandbox') or ''
if ARGV[2] == 'bind' then
  redis.call('HSET', KEYS[2], 'sandbox', ARGV[4], 'sandboxId', ARGV[3])
  -- A record that got a sandbox is permanent (a never-bound one carries a TTL from creation).
  redis.call('PERSIST', KEYS[2])
  redis.call('ZADD', KEYS[3], tonumber(last), ARGV[5])
else
  redis.call('HDEL', KEYS[2], 'sandbox', 'sandboxId')
  redis.call('ZREM', KEYS[3], ARGV[5])
end
return {1, previous}`;

const clearSandbox = `
-- KEYS: record, activity  ARGV: sandboxId, sessionId. Compare-and-clear: only unbinds the
-- sandbox it was told about, so a late "sandbox lost" report never unbinds its replacement.
-- Returns 0 or {1, the cleared binding's JSON}, whose egress-key entry the caller drops.
if redis.call('HGET', KEYS[1], 'sandboxId') ~= ARGV[1] then return 0 end
local previous = redis.call('HGET', KEYS[1], 'sandbox') or ''
redis.call('HDEL', KEYS[1], 'sandbox', 'sandboxId')
redis.call('ZREM', KEYS[2], ARGV[2])
return {1, previous}`;

const dropEgressKey = `
-- KEYS: egressKey  ARGV: sessionId. Compare-and-delete: one session's unbind never drops an
-- entry that meanwhile names another session.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const appendTranscript = `
-- KEYS: transcript, transcriptUuids, transcriptBytes  ARGV: maxBytes, key, json, key, json, ...
-- key is the entry's idempotency key as kept in the set (a bare uuid, or 'k:<batch key>'), or ''
-- (always append). Two passes: the new entries are found and sized first, so a batch that would
-- take the log past maxBytes stores nothing. Returns {1, appended, bytes} or {0, bytes, batchBytes}.
local stored = tonumber(redis.call('GET', KEYS[3]) or '0')
local fresh = {}
local seen = {}
local batchBytes = 0
for i = 2, #ARGV, 2 do
  local key = ARGV[i]
  if key == '' or (not seen[key] and redis.call('SISMEMBER', KEYS[2], key) == 0) then
    if key ~= '' then seen[key] = true end
    fresh[#fresh + 1] = i
    batchBytes = batchBytes + #ARGV[i + 1]
  end
end
if #fresh > 0 and stored + batchBytes > tonumber(ARGV[1]) then return {0, stored, batchBytes} end
for _, i in ipairs(fresh) do
  if ARGV[i] ~= '' then redis.call('SADD', KEYS[2], ARGV[i]) end
  redis.call('RPUSH', KEYS[1], ARGV[i + 1])
end
if batchBytes > 0 then stored = redis.call('INCRBY', KEYS[3], batchBytes) end
return {1, #fresh, stored}`;

const addStandby = `
-- KEYS: standbyIds, standbyData  ARGV: sandboxId, data. Adding a present id is a no-op.
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then redis.call('RPUSH', KEYS[1], ARGV[1]) end
return 1`;

const popStandby = `
-- KEYS: standbyIds, standbyData. LPOP is the claim: of concurrent poppers each gets a distinct
-- standby or nothing.
local id = redis.call('LPOP', KEYS[1])
if not id then return false end
local data = redis.call('HGET', KEYS[2], id) or ''
redis.call('HDEL', KEYS[2], id)
return {id, data}`;

const removeStandby = `
-- KEYS: standbyIds, standbyData  ARGV: sandboxId
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return removed`;

const listStandbys = `
-- KEYS: standbyIds, standbyData. Returns {id, data, id, data, ...} oldest first.
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for i = 1, #ids do
  out[#out + 1] = ids[i]
  out[#out + 1] = redis.call('HGET', KEYS[2], ids[i]) or ''
end
return out`;

/**
 * Lua functions shared by the scripts that take a rate token or renew a lease (the standalone
 * ones below and the session gate's, redis-session-gate.ts), so both count alike.
 * serverNowMs: the server clock (TIME), so every replica refills one bucket at one rate and
 * expires one lease at one time whatever its own clock says.
 * takeToken: token bucket (capacity, refillPerMs) in a hash {tokens, at}; returns ok (0|1),
 * retryAfterMs (≥ 1 when refused) and the whole tokens left.
 * acquireLease: sorted set holder → expiry; expired leases (a replica that died mid-turn) are
 * dropped before counting, so a crash leaks a slot for at most ttlMs. Returns ok (0|1), held.
 */
export const QUOTA_LUA_FUNCTIONS = `
local function serverNowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function takeToken(key, capacity, rate, now)
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  if now > at then tokens = tokens + (now - at) * rate end
  -- Also clamps a bucket whose tenant's capacity was lowered since it was filled.
  if tokens > capacity then tokens = capacity end
  local ok, wait = 0, 0
  if tokens >= 1 then
    tokens = tokens - 1
    ok = 1
  else
    wait = math.ceil((1 - tokens) / rate)
  end
  redis.call('HSET', key, 'tokens', string.format('%.6f', tokens), 'at', now)
  -- A bucket untouched until it would be full again is the same as no bucket: let it expire.
  redis.call('PEXPIRE', key, math.ceil(capacity / rate) + 1000)
  return ok, math.max(wait, ok == 1 and 0 or 1), math.floor(tokens)
end
local function acquireLease(key, holder, limit, ttl, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local held = redis.call('ZCARD', key)
  if not redis.call('ZSCORE', key, holder) and held >= limit then return 0, held end
  redis.call('ZADD', key, now + ttl, holder)
  -- The set lives as long as its longest lease.
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
  return 1, redis.call('ZCARD', key)
end
`;

const takeRateToken = `${QUOTA_LUA_FUNCTIONS}
-- KEYS: bucket  ARGV: capacity, refillPerMs. Returns {ok, retryAfterMs, remaining}.
local ok, wait, remaining = takeToken(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), serverNowMs())
return {ok, wait, remaining}`;

const acquireLease = `${QUOTA_LUA_FUNCTIONS}
-- KEYS: leases  ARGV: holder, limit, ttlMs. Returns {ok, held}.
local ok, held = acquireLease(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), serverNowMs())
return {ok, held}`;

/** Command names are prefixed so a client shared with other code cannot collide with them. */
export const STORE_SCRIPTS = {
  berthCheckAndTouch: { numberOfKeys: 2, lua: checkAndTouch },
  berthCreateSession: { numberOfKeys: 3, lua: createSession },
  berthTouch: { numberOfKeys: 2, lua: touch },
  berthUpdateSession: { numberOfKeys: 1, lua: updateSession },
  berthDeleteSession: { numberOfKeys: 7, lua: deleteSession },
  berthReleaseLock: { numberOfKeys: 1, lua: releaseLock },
  berthSetSandbox: { numberOfKeys: 3, lua: setSandbox },
  berthClearSandbox: { numberOfKeys: 2, lua: clearSandbox },
  berthDropEgressKey: { numberOfKeys: 1, lua: dropEgressKey },
  berthAppendTranscript: { numberOfKeys: 3, lua: appendTranscript },
  berthAddStandby: { numberOfKeys: 2, lua: addStandby },
  berthPopStandby: { numberOfKeys: 2, lua: popStandby },
  berthRemoveStandby: { numberOfKeys: 2, lua: removeStandby },
  berthListStandbys: { numberOfKeys: 2, lua: listStandbys },
  berthTakeRateToken: { numberOfKeys: 1, lua: takeRateToken },
  berthAcquireLease: { numberOfKeys: 1, lua: acquireLease },
} as const satisfies Record<string, ScriptDefinition>;

export type StoreScript = keyof typeof STORE_SCRIPTS;
