package redisstate

import "github.com/redis/go-redis/v9"

// Every call is one Lua script: Redis runs each atomically, so two instances can never both see a device
// free (no check-then-set), and a request's revocation check, rate limit and state read or write cost one
// round trip. Times are Unix milliseconds from the calling instance's clock (instances keep NTP time; a
// skew of a few milliseconds only shifts a rate limit or a timeout by as much); key lifetimes are Redis's own
// PEXPIRE, so every key expires even if no instance ever comes back.
//
// Keys, under the prefix P:
//
//	P dev:<serial>     hash  the device guard: k key, l lane, i instruction id, s last seen, n submits on
//	                         their way, r reached (0/1); lives BusyTimeout+SendTimeout past its last touch
//	P busy             zset  the serials that have a guard (for the busy-devices gauge; a member whose guard
//	                         expired is dropped when the gauge is read); TTL, renewed by each new guard
//	P key:<lower key>  str   the lane that owns an Idempotency-Key; TTL
//	P ins:<id>         hash  an instruction: l lane, s serial, k key, t token id, a amount, c currency,
//	                         o order id, at submitted, f final audited (0/1); TTL
//	P ref:<refund id>  str   the lane a refund belongs to; TTL
//	P rate:<token id>  str   the token's GCRA theoretical arrival time; lives until its bucket is full again
//	P rev:<token id>   str   revoked until; lives until then
//
// Keys other scripts touch are built from P inside the scripts, so on a Redis Cluster every key must hash to
// one slot: give a prefix with a hash tag, such as "{payroc}:".

// prelude holds the helpers every script shares. ARGV[1] is always the prefix and ARGV[2] now (ms).
const prelude = `
local P = ARGV[1]
local now = tonumber(ARGV[2])

-- admit: revocation, then one request from the token's GCRA bucket (interval T ms, burst B; T <= 0: no
-- limit). Returns 0 (admitted), 1 (revoked) or 2 (limited) and the wait in ms.
local function admit(token, T, B)
  if token == '' then return 0, 0 end
  local u = redis.call('GET', P .. 'rev:' .. token)
  if u and tonumber(u) > now then return 1, 0 end
  if T <= 0 then return 0, 0 end
  local rk = P .. 'rate:' .. token
  local tat = tonumber(redis.call('GET', rk) or now)
  if tat < now then tat = now end
  local nt = tat + T
  local allowAt = nt - B * T
  if now < allowAt then return 2, math.ceil(allowAt - now) end
  redis.call('SET', rk, string.format('%.3f', nt), 'PX', math.max(math.ceil(nt - now), 1))
  return 0, 0
end

-- hold writes a guard's fields and renews its lifetime.
local function hold(serial, life, ...)
  local dk = P .. 'dev:' .. serial
  redis.call('HSET', dk, ...)
  redis.call('PEXPIRE', dk, life)
end

local function free(serial)
  redis.call('DEL', P .. 'dev:' .. serial)
  redis.call('ZREM', P .. 'busy', serial)
end

-- observe: a status seen for instruction id. Returns the record (audit flag first) or an empty table.
local function observe(id, final, refundID, ttl, life)
  local ik = P .. 'ins:' .. id
  local r = redis.call('HMGET', ik, 'l', 's', 'k', 't', 'a', 'c', 'o', 'at', 'f')
  if not r[1] then return {} end
  local h = redis.call('HMGET', P .. 'dev:' .. r[2], 'i', 'k')
  if h[1] == id or (h[2] and h[2] == r[3]) then
    if final then free(r[2]) else hold(r[2], life, 's', now) end
  end
  if refundID ~= '' then redis.call('SET', P .. 'ref:' .. refundID, r[1], 'PX', ttl) end
  local audit = 0
  if final and r[9] ~= '1' then
    redis.call('HSET', ik, 'f', 1)
    audit = 1
  end
  return {audit, id, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]}
end
`

// admitScript: ARGV 3 token, 4 interval, 5 burst.
var admitScript = redis.NewScript(prelude + `
local a, w = admit(ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
return {a, w}
`)

// reserveScript: ARGV 3 token, 4 interval, 5 burst, 6 serial, 7 key, 8 lower-case key, 9 lane, 10 busy
// timeout, 11 send timeout, 12 ttl. Returns {admission, wait, result}: result 0 reserved, 1 device busy,
// 2 key elsewhere.
var reserveScript = redis.NewScript(prelude + `
local a, w = admit(ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
if a ~= 0 then return {a, w, 0} end
local serial, key, lane = ARGV[6], ARGV[7], ARGV[9]
local busy, send, ttl = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local life = busy + send
local owner = redis.call('GET', P .. 'key:' .. ARGV[8])
if owner and owner ~= lane then return {0, 0, 2} end
local h = redis.call('HMGET', P .. 'dev:' .. serial, 'k', 'l', 's', 'n')
if h[1] then
  local quiet, n = now - tonumber(h[3]), tonumber(h[4])
  if not ((n == 0 and quiet >= busy) or quiet >= life) then
    if h[1] ~= key or h[2] ~= lane then return {0, 0, 1} end
    hold(serial, life, 's', now, 'n', n + 1)
    return {0, 0, 0}
  end
  free(serial)
end
hold(serial, life, 'k', key, 'l', lane, 'i', '', 's', now, 'n', 1, 'r', 0)
redis.call('ZADD', P .. 'busy', 0, serial)
redis.call('PEXPIRE', P .. 'busy', ttl)
redis.call('SET', P .. 'key:' .. ARGV[8], lane, 'PX', ttl)
return {0, 0, 0}
`)

// settleScript: ARGV 3 serial, 4 key, 5 reached (0/1), 6 busy timeout, 7 send timeout, 8 ttl, 9 accepted
// (0/1), then when accepted 10 id, 11 lane, 12 token id, 13 amount, 14 currency, 15 order id, 16 submitted,
// 17 final (0/1), 18 refund id, 19 lower-case key. Returns {} (nothing accepted), {-1} (the id is another
// lane's) or the record as observe returns it. It does what the memory store does in three steps (the
// submit's end, filing the instruction, observing its status) with one write per key.
var settleScript = redis.NewScript(prelude + `
local serial, key = ARGV[3], ARGV[4]
local life, ttl = tonumber(ARGV[6]) + tonumber(ARGV[7]), tonumber(ARGV[8])
local h = redis.call('HMGET', P .. 'dev:' .. serial, 'k', 'n', 'r')
local mine = h[1] == key
local n, reached = 0, ARGV[5] == '1'
if mine then
  n = math.max(tonumber(h[2]) - 1, 0)
  reached = reached or h[3] == '1'
end
local function sent()
  if not mine then return end
  if n == 0 and not reached then free(serial) else hold(serial, life, 'n', n, 'r', reached and 1 or 0, 's', now) end
end
if ARGV[9] ~= '1' then
  sent()
  return {}
end
local id, lane, final, refundID = ARGV[10], ARGV[11], ARGV[17] == '1', ARGV[18]
local ik = P .. 'ins:' .. id
local r = redis.call('HMGET', ik, 'l', 's', 'k', 't', 'a', 'c', 'o', 'at', 'f')
if r[1] and r[1] ~= lane then
  sent()
  return {-1}
end
local audit = 0
if final and r[9] ~= '1' then audit = 1 end
if r[1] then
  redis.call('HSET', ik, 't', ARGV[12], 'f', (final or r[9] == '1') and 1 or 0)
  r[4] = ARGV[12]
else
  r = {lane, serial, key, ARGV[12], ARGV[13], ARGV[14], ARGV[15], ARGV[16]}
  redis.call('HSET', ik, 'l', lane, 's', serial, 'k', key, 't', ARGV[12], 'a', ARGV[13], 'c', ARGV[14],
    'o', ARGV[15], 'at', ARGV[16], 'f', final and 1 or 0)
end
redis.call('PEXPIRE', ik, ttl)
redis.call('SET', P .. 'key:' .. ARGV[19], lane, 'PX', ttl)
if mine then
  if final then free(serial) else hold(serial, life, 'n', n, 'r', 1, 's', now, 'i', id) end
end
if refundID ~= '' then redis.call('SET', P .. 'ref:' .. refundID, lane, 'PX', ttl) end
return {audit, id, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]}
`)

// lookupScript: ARGV 3 token, 4 interval, 5 burst, 6 id, 7 lane, 8 busy timeout, 9 send timeout. Returns
// {admission, wait} and, when the lane's, the record's fields (lane, serial, key, token id, amount,
// currency, order id, submitted).
var lookupScript = redis.NewScript(prelude + `
local a, w = admit(ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
if a ~= 0 then return {a, w} end
local id = ARGV[6]
local r = redis.call('HMGET', P .. 'ins:' .. id, 'l', 's', 'k', 't', 'a', 'c', 'o', 'at')
if r[1] ~= ARGV[7] then return {0, 0} end
if redis.call('HGET', P .. 'dev:' .. r[2], 'i') == id then
  hold(r[2], tonumber(ARGV[8]) + tonumber(ARGV[9]), 's', now)
end
return {0, 0, r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]}
`)

// observeScript: ARGV 3 id, 4 final (0/1), 5 refund id, 6 ttl, 7 busy timeout, 8 send timeout.
var observeScript = redis.NewScript(prelude + `
return observe(ARGV[3], ARGV[4] == '1', ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]) + tonumber(ARGV[8]))
`)

// refundScript: ARGV 3 token, 4 interval, 5 burst, 6 refund id. Returns {admission, wait, lane or false}.
var refundScript = redis.NewScript(prelude + `
local a, w = admit(ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
if a ~= 0 then return {a, w} end
return {0, 0, redis.call('GET', P .. 'ref:' .. ARGV[6])}
`)

// releaseScript: ARGV 3 id.
var releaseScript = redis.NewScript(prelude + `
local r = redis.call('HMGET', P .. 'ins:' .. ARGV[3], 's', 'k')
if not r[1] then return 0 end
local h = redis.call('HMGET', P .. 'dev:' .. r[1], 'i', 'k')
if h[1] == ARGV[3] or (h[2] and h[2] == r[2]) then free(r[1]) end
return 0
`)

// busyScript counts the guards that are still there, dropping the members whose guard expired.
var busyScript = redis.NewScript(prelude + `
local n = 0
for _, serial in ipairs(redis.call('ZRANGE', P .. 'busy', 0, -1)) do
  if redis.call('EXISTS', P .. 'dev:' .. serial) == 1 then n = n + 1 else redis.call('ZREM', P .. 'busy', serial) end
end
return n
`)

// revokeScript: ARGV 3 token id, 4 until, 5 lifetime (ms). A later until wins.
var revokeScript = redis.NewScript(prelude + `
local k = P .. 'rev:' .. ARGV[3]
local old = tonumber(redis.call('GET', k) or 0)
if tonumber(ARGV[4]) > old then redis.call('SET', k, ARGV[4], 'PX', ARGV[5]) end
return 0
`)
