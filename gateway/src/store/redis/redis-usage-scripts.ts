// The Lua scripts behind the Redis UsageLedger (redis-usage-ledger.ts), beside the session-record
// scripts (redis-scripts.ts) because they share one layout of their own. Per tenant, in its slot:
// - `{tenant:<name>}:usage`, a hash: `tenant:<counter>` (the totals) and `session:<id>:<counter>`
//   (each session's share), plus the marker field `meta:sessionIndex` once the index below holds
//   every session of the hash;
// - `{tenant:<name>}:usage-sessions`, a sorted set of the session ids (all score 0, so
//   ZRANGEBYLEX reads them in byte order): the index a page walks, so a page costs what it
//   returns plus a logarithm instead of an HGETALL of every session.
// Hashes written before the index existed carry no marker: the first page or summary read
// indexes their sessions once (one HKEYS of the hash), then sets the marker. A hash addUsage
// creates gets the marker at once, as its sessions enter the index as they come.
// A ledger given a TTL (a budget window's) has both keys PEXPIREd by the same script that adds
// to it, so counters and index always expire together; lifetime counters get none.
// Defined on the client with the others by redis-commands.ts.

import type { ScriptDefinition } from './redis-scripts.js';

/** Indexes an unmarked (pre-index) hash's sessions once; shared by the reads that need the index whole. */
const indexLegacyHash = `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'meta:sessionIndex') == 0 then
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    local id = string.match(field, '^session:(.*):[^:]*$')
    if id then redis.call('ZADD', KEYS[2], 0, id) end
  end
  redis.call('HSET', KEYS[1], 'meta:sessionIndex', '1')
end`;

const counterNames = `local names = {'inputTokens', 'outputTokens', 'cacheCreationInputTokens', 'cacheReadInputTokens'}`;

const addUsage = `
-- KEYS: tenantUsage, tenantUsageSessions  ARGV: sessionId, inputTokens, outputTokens,
-- cacheCreationInputTokens, cacheReadInputTokens, ttlMs ('' = leave any expiry as it is).
-- Tenant total, the session's share, its index entry and the expiry move together.
${counterNames}
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'meta:sessionIndex', '1') end
for i = 1, 4 do
  local value = tonumber(ARGV[i + 1])
  if value ~= 0 then
    redis.call('HINCRBY', KEYS[1], 'tenant:' .. names[i], value)
    redis.call('HINCRBY', KEYS[1], 'session:' .. ARGV[1] .. ':' .. names[i], value)
  end
end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
if ARGV[6] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return 1`;

const usagePage = `
-- KEYS: tenantUsage, tenantUsageSessions  ARGV: limit, afterId ('' = from the first id)
-- Returns {4 tenant counters, more (0|1), then per session: id, its 4 counters}: up to limit
-- sessions with ids strictly after afterId, in byte order, and whether more follow.
${counterNames}
${indexLegacyHash}
local limit = tonumber(ARGV[1])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local ids = redis.call('ZRANGEBYLEX', KEYS[2], from, '+', 'LIMIT', 0, limit + 1)
local out = {}
local function counters(prefix)
  local fields = {}
  for i = 1, 4 do fields[i] = prefix .. names[i] end
  local values = redis.call('HMGET', KEYS[1], unpack(fields))
  for i = 1, 4 do out[#out + 1] = values[i] or '0' end
end
counters('tenant:')
out[#out + 1] = (#ids > limit) and '1' or '0'
for i = 1, math.min(#ids, limit) do
  out[#out + 1] = ids[i]
  counters('session:' .. ids[i] .. ':')
end
return out`;

const usageSummary = `
-- KEYS: tenantUsage, tenantUsageSessions
-- Returns {4 tenant counters, the number of sessions}: the counters by name, the count from the
-- index (ZCARD), so no session's counters are read.
${counterNames}
${indexLegacyHash}
local fields = {}
for i = 1, 4 do fields[i] = 'tenant:' .. names[i] end
local values = redis.call('HMGET', KEYS[1], unpack(fields))
local out = {}
for i = 1, 4 do out[i] = values[i] or '0' end
out[5] = redis.call('ZCARD', KEYS[2])
return out`;

const sessionUsage = `
-- KEYS: tenantUsage, tenantUsageSessions  ARGV: sessionId
-- Returns {present (0|1), its 4 counters}. Present: a counter of it is in the hash (a session
-- metered only zeros has none) or its id is in the index (a pre-index hash has no index yet).
${counterNames}
local fields = {}
for i = 1, 4 do fields[i] = 'session:' .. ARGV[1] .. ':' .. names[i] end
local values = redis.call('HMGET', KEYS[1], unpack(fields))
local present = redis.call('ZSCORE', KEYS[2], ARGV[1]) and 1 or 0
local out = {0}
for i = 1, 4 do
  if values[i] then present = 1 end
  out[i + 1] = values[i] or '0'
end
out[1] = present
return out`;

export const USAGE_SCRIPTS = {
  berthAddUsage: { numberOfKeys: 2, lua: addUsage },
  berthUsagePage: { numberOfKeys: 2, lua: usagePage },
  berthUsageSummary: { numberOfKeys: 2, lua: usageSummary },
  berthSessionUsage: { numberOfKeys: 2, lua: sessionUsage },
} as const satisfies Record<string, ScriptDefinition>;

export type UsageScript = keyof typeof USAGE_SCRIPTS;
