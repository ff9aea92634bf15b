"""Lua scripts of the Redis store (kept in Python so they ship with the package).

Every script is passed all the keys it may touch in KEYS (one game's keys share a hash tag,
so they sit in one cluster slot) and builds the same names from the game's key prefix.
Scores are written with %.17g so doubles round-trip exactly; "+ 0" turns -0 into 0.
The board layout and sort scores mirror leaderboard/store.py and leaderboard/ranking.py.
A record's distance ``d`` is the unrounded sum, stored as a %.17g string (cjson would write
a number with 14 digits only); boards rank by ``whole(d)``, as ``ranking.whole_metres``.
"""

_COMMON = r"""
local P = ARGV[1]
local SCALE = 100000000
local function fmt(x) return string.format('%.17g', x + 0) end
local function key_of(m) return string.sub(m, string.find(m, '\0', 1, true) + 1) end
local function whole(x)
  local f = math.floor(x)
  if x - f >= 0.5 then return f + 1 end
  return f
end
"""

_TEAM_PLACES = r"""
local function team_places(r, mm)
  local avg = 0
  if r.m > 0 then avg = r.p / r.m end
  local seg = 'avgx'
  if r.m >= mm then seg = 'avg' end
  local out = {}
  for _, k in ipairs({'all', r.k}) do
    out[#out + 1] = {P .. 'teams:total:' .. k, fmt(-r.p)}
    out[#out + 1] = {P .. 'teams:distance:' .. k, fmt(-whole(r.d))}
    out[#out + 1] = {P .. 'teams:' .. seg .. ':' .. k, fmt(-avg)}
  end
  return out
end
local function player_score(r)
  local d = whole(r.d)
  if d < 0 then d = 0 elseif d > SCALE - 1 then d = SCALE - 1 end
  return fmt(-(r.p * SCALE + d))
end
"""

_APPLY_CHANGES = r"""
local function decode(raw)
  local r = cjson.decode(raw)
  r.d = tonumber(r.d)
  return r
end
local function encode(r)
  local d = r.d
  r.d = fmt(d)
  local raw = cjson.encode(r)
  r.d = d
  return raw
end
local function apply_changes(ch, mm, TEAMS, PLAYERS)
  for _, t in ipairs(ch.teams) do
    local raw = redis.call('HGET', TEAMS, t.c)
    local r
    if raw then
      r = decode(raw)
      for _, pl in ipairs(team_places(r, mm)) do redis.call('ZREM', pl[1], r.s) end
    else
      r = {n = t.c, k = 'other', p = 0, d = 0, m = 0, s = t.ds}
    end
    r.p = r.p + t.p
    r.d = r.d + t.d
    r.m = r.m + t.m
    if t.n then r.n = t.n; r.s = t.s end
    if t.k then r.k = t.k end
    for _, pl in ipairs(team_places(r, mm)) do redis.call('ZADD', pl[1], pl[2], r.s) end
    redis.call('HSET', TEAMS, t.c, encode(r))
  end
  local BOARD = P .. 'players'
  for _, u in ipairs(ch.players) do
    local raw = redis.call('HGET', PLAYERS, u.h)
    local r
    if raw then
      r = decode(raw)
      if r.pub then redis.call('ZREM', BOARD, r.s) end
    else
      r = {n = u.h, p = 0, d = 0, pub = false, s = u.ds}
    end
    r.p = r.p + u.p
    r.d = r.d + u.d
    if u.n then r.n = u.n; r.s = u.s end
    if u.pub ~= nil then r.pub = u.pub end
    if u.t then r.t = u.t end
    if r.pub then redis.call('ZADD', BOARD, player_score(r), r.s) end
    redis.call('HSET', PLAYERS, u.h, encode(r))
  end
end
"""

# Exactly once across rebuilds (PostgreSQL). Changes that carry their transaction id are
# also appended to a bounded journal, and a rebuild records the snapshot it read the
# database in. A transaction that snapshot saw is already in the rebuilt boards: its
# changes are skipped when they arrive after the swap. The changes of one it did not see
# are re-applied from the journal at the swap if they arrived before it, and applied as
# usual if they arrive after it.
_JOURNAL = r"""
local JOURNAL_MAX = 10000
local function visible(xid, snap)
  if not snap or snap == '' or not xid or xid == '' then return false end
  local xmin, xmax, xip = string.match(snap, '^(%d+):(%d+):(.*)$')
  if not xmin then return false end
  local x = tonumber(xid)
  if x < tonumber(xmin) then return true end
  if x >= tonumber(xmax) then return false end
  for v in string.gmatch(xip, '%d+') do
    if tonumber(v) == x then return false end
  end
  return true
end
"""

# KEYS: meta, data:teams, data:players, every board key, journal.
# ARGV: prefix, changes JSON, default min_members, xid ('' when unknown).
# Returns the new version; -1 when changes with an xid find no boards (they are journaled
# for a rebuild in progress; the caller should rebuild), -2 when already in the boards.
APPLY = (
    _COMMON
    + _TEAM_PLACES
    + _APPLY_CHANGES
    + _JOURNAL
    + r"""
local meta, TEAMS, PLAYERS, JOURNAL = KEYS[1], KEYS[2], KEYS[3], KEYS[#KEYS]
local xid = ARGV[4]
if xid ~= '' then
  if redis.call('EXISTS', meta) == 0 then
    redis.call('RPUSH', JOURNAL, xid .. '|' .. ARGV[2])
    redis.call('LTRIM', JOURNAL, -JOURNAL_MAX, -1)
    return -1
  end
  if visible(xid, redis.call('HGET', meta, 'snap')) then return -2 end
end
local mm = tonumber(redis.call('HGET', meta, 'min_members'))
if not mm then
  mm = tonumber(ARGV[3])
  redis.call('HSET', meta, 'min_members', ARGV[3])
end
apply_changes(cjson.decode(ARGV[2]), mm, TEAMS, PLAYERS)
if xid ~= '' then
  redis.call('RPUSH', JOURNAL, xid .. '|' .. ARGV[2])
  redis.call('LTRIM', JOURNAL, -JOURNAL_MAX, -1)
end
return redis.call('HINCRBY', meta, 'version', 1)
"""
)

# KEYS: meta, data hash, segment boards in reading order.
# ARGV: prefix, mode ('page' | 'around'), offset or key, limit or n.
# Returns {version, total, min_members (-1: unset), ranks, keys, records},
# or {version, -1} when 'around' does not find the key on the board.
READ = (
    "#!lua flags=no-writes\n"
    + _COMMON
    + r"""
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local mm = tonumber(redis.call('HGET', KEYS[1], 'min_members') or '-1')
local DATA = KEYS[2]
local segs = {}
for i = 3, #KEYS do segs[#segs + 1] = KEYS[i] end
local counts, total = {}, 0
for i, k in ipairs(segs) do
  counts[i] = redis.call('ZCARD', k)
  total = total + counts[i]
end
local offset, limit
if ARGV[2] == 'page' then
  offset, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
else
  local raw = redis.call('HGET', DATA, ARGV[3])
  if not raw then return {version, -1} end
  local m = cjson.decode(raw).s
  local pos, before = nil, 0
  for i, k in ipairs(segs) do
    local rk = redis.call('ZRANK', k, m)
    if rk then pos = before + rk; break end
    before = before + counts[i]
  end
  if not pos then return {version, -1} end
  local n = tonumber(ARGV[4])
  offset, limit = math.max(0, pos - n), 2 * n + 1
end
local ranks, keys = {}, {}
local got, before = 0, 0
for i, k in ipairs(segs) do
  local n = counts[i]
  local start = offset + got - before
  if got < limit and start >= 0 and start < n then
    local items = redis.call('ZRANGE', k, start, start + limit - got - 1, 'WITHSCORES')
    local prev, rank = nil, 0
    for j = 1, #items, 2 do
      local s = tonumber(items[j + 1])
      if prev == nil then
        rank = before + redis.call('ZCOUNT', k, '-inf', '(' .. items[j + 1]) + 1
      elseif s ~= prev then
        rank = before + start + (j - 1) / 2 + 1
      end
      prev = s
      ranks[#ranks + 1] = rank
      keys[#keys + 1] = key_of(items[j])
      got = got + 1
    end
  end
  before = before + n
end
local records = {}
if #keys > 0 then records = redis.call('HMGET', DATA, unpack(keys)) end
return {version, total, mm, ranks, keys, records}
"""
)

# KEYS: meta, then (live, temp) pairs, then the journal.
# ARGV: prefix, min_members, snapshot ('' when unknown). Returns the new version.
SWAP = (
    _COMMON
    + _TEAM_PLACES
    + _APPLY_CHANGES
    + _JOURNAL
    + r"""
for i = 2, #KEYS - 1, 2 do
  local live, tmp = KEYS[i], KEYS[i + 1]
  if redis.call('EXISTS', tmp) == 1 then
    redis.call('RENAME', tmp, live)
    redis.call('PERSIST', live)
  else
    redis.call('DEL', live)
  end
end
local mm = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'min_members', ARGV[2])
local snap = ARGV[3]
if snap ~= '' then
  redis.call('HSET', KEYS[1], 'snap', snap)
  local TEAMS, PLAYERS = P .. 'data:teams', P .. 'data:players'
  for _, entry in ipairs(redis.call('LRANGE', KEYS[#KEYS], 0, -1)) do
    local bar = string.find(entry, '|', 1, true)
    if not visible(string.sub(entry, 1, bar - 1), snap) then
      apply_changes(cjson.decode(string.sub(entry, bar + 1)), mm, TEAMS, PLAYERS)
    end
  end
end
return redis.call('HINCRBY', KEYS[1], 'version', 1)
"""
)
