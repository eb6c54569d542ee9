// The Lua script behind a tenant's listing page (redis-session-listing.ts), apart from the
// session-record scripts (redis-scripts.ts) because it reads only the tenant's index and
// changes nothing. Defined on the client with the others by redis-commands.ts.

import type { ScriptDefinition } from './redis-scripts.js';

const tenantPage = `
-- KEYS: tenantSessions  ARGV: limit, afterScore ('' = from the newest), afterId
-- The tenant index is a sorted set of session ids scored by createdAt, listed newest first:
-- score descending, ties by id descending (ZREVRANGE's own order). The page starts right after
-- the cursor's (createdAt, id) place, found whether or not that id is still in the set: ZCOUNT
-- gives where its score's ties begin, a binary search over those ties (by rank) where its id
-- falls. Returns up to limit + 1 {id, score, ...}: O(log N + limit), never the rest of the set.
-- Ids compare by bytes, not with Lua's '<' (strcoll: Redis' locale could reorder them).
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local start = 0
if ARGV[2] ~= '' then
  local score = ARGV[2]
  start = redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')
  local hi = start + redis.call('ZCOUNT', KEYS[1], score, score)
  while start < hi do
    local mid = math.floor((start + hi) / 2)
    if before(redis.call('ZREVRANGE', KEYS[1], mid, mid)[1], ARGV[3]) then hi = mid else start = mid + 1 end
  end
end
return redis.call('ZREVRANGE', KEYS[1], start, start + tonumber(ARGV[1]), 'WITHSCORES')`;

export const LISTING_SCRIPTS = {
  berthTenantPage: { numberOfKeys: 1, lua: tenantPage },
} as const satisfies Record<string, ScriptDefinition>;

export type ListingScript = keyof typeof LISTING_SCRIPTS;
