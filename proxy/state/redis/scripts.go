package redis

import goredis "github.com/redis/go-redis/v9"

// Every call is one Lua script: Redis runs each atomically, so two instances can never both see a device
// free (no check-then-set), and a request's revocation check, rate limit and state read or write cost one
// round trip. Times are Unix milliseconds from the calling instance's clock (instances keep NTP time; a
// skew of a few milliseconds only shifts a rate limit or a timeout by as much); key lifetimes are Redis's own
// PEXPIRE, so every key expires even if no instance ever comes back. A guard's life is also checked against
// now (its last-seen time plus BusyTimeout + SendTimeout), as the memory store checks it, so the two agree
// on the caller's clock, a test's fake one included: PEXPIRE only collects the garbage.
//
// Keys, under the prefix P:
//
//	P dev:<serial>     the device guard: {key, lane, instruction id, last seen, submits on their way,
//	                   reached}; lives BusyTimeout+SendTimeout past its last touch
//	P key:<lower key>  the lane that owns an Idempotency-Key; TTL
//	P ins:<id>         an instruction: {lane, serial, key, token id, amount, currency, order id, submitted,
//	                   final audited}; TTL
//	P ref:<refund id>  the lane a refund belongs to; TTL
//	P rate:<token id>  the token's GCRA theoretical arrival time; lives until its bucket is full again
//	P rev:<token id>   revoked until (decimal ms); lives until then
//
// Records are MessagePack arrays in plain strings (Redis's own cmsgpack), not hashes: a script reads all
// of a call's keys with one MGET and writes each with one SET … PX, where a hash needs an HSET and a
// PEXPIRE, and numbers stay binary instead of going through printf and strtod on every touch. That costs
// Redis less CPU per refund and less memory per record than hashes did (P3 with -state redis; the figures
// before and after are in bench/RESULTS.md).
//
// Keys other scripts touch are built from P inside the scripts, so on a Redis Cluster every key must hash to
// one slot: give a prefix with a hash tag, such as "{payroc}:".
//
// The scripts are built from the Lua fragments below as plain code, not shared functions: a script's
// local functions are created anew on every call.

// head opens every script. ARGV[1] is always the prefix and ARGV[2] now (ms).
const head = `
local P = ARGV[1]
local now = tonumber(ARGV[2])
`

// admitLua checks a token: revocation, then one request from its GCRA bucket (interval T ms, burst B;
// T <= 0: no limit). It expects tok, T, B and the values of its rev: and rate: keys (rev, rate), and sets
// a to 0 (admitted), 1 (revoked) or 2 (limited, wait ms in w).
const admitLua = `
local a, w = 0, 0
if tok ~= '' then
  if rev and tonumber(rev) > now then
    a = 1
  elseif T > 0 then
    local tat = rate and cmsgpack.unpack(rate) or now
    if tat < now then tat = now end
    local nt = tat + T
    local allowAt = nt - B * T
    if now < allowAt then
      a, w = 2, math.ceil(allowAt - now)
    else
      redis.call('SET', P .. 'rate:' .. tok, cmsgpack.pack(nt), 'PX', math.max(math.ceil(nt - now), 1))
    end
  end
end
`

// gate reads ARGV 3 token, 4 interval, 5 burst: the admitLua arguments every request's script starts with.
const gate = `
local tok, T, B = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
`

// admitScript: ARGV 3 token, 4 interval, 5 burst. Returns {admitLua, wait}.
var admitScript = goredis.NewScript(head + gate + `
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok)
local rev, rate = v[1], v[2]
` + admitLua + `
return {a, w}
`)

// reserveScript: ARGV 3 token, 4 interval, 5 burst, 6 serial, 7 key, 8 lower-case key, 9 lane, 10 busy
// timeout, 11 busy + send timeout, 12 ttl (all ms). Returns {admitLua, wait, result}: result 0 reserved,
// 1 device busy, 2 key elsewhere.
var reserveScript = goredis.NewScript(head + gate + `
local serial, key, lane = ARGV[6], ARGV[7], ARGV[9]
local dk, kk = P .. 'dev:' .. serial, P .. 'key:' .. ARGV[8]
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok, kk, dk)
local rev, rate = v[1], v[2]
` + admitLua + `
if a ~= 0 then return {a, w, 0} end
if v[3] and v[3] ~= lane then return {0, 0, 2} end
if v[4] then
  local g = cmsgpack.unpack(v[4])
  local quiet, n = now - g[4], g[5]
  if not ((n == 0 and quiet >= tonumber(ARGV[10])) or quiet >= tonumber(ARGV[11])) then
    if g[1] ~= key or g[2] ~= lane then return {0, 0, 1} end
    g[4], g[5] = now, n + 1
    redis.call('SET', dk, cmsgpack.pack(g), 'PX', ARGV[11])
    return {0, 0, 0}
  end
end
redis.call('SET', dk, cmsgpack.pack({key, lane, '', now, 1, false}), 'PX', ARGV[11])
redis.call('SET', kk, lane, 'PX', ARGV[12])
return {0, 0, 0}
`)

// settleScript: ARGV 3 serial, 4 key, 5 reached (0/1), 6 busy + send timeout, 7 ttl, 8 accepted (0/1),
// then when accepted 9 id, 10 lane, 11 token id, 12 amount, 13 currency, 14 order id, 15 submitted,
// 16 final (0/1), 17 refund id, 18 lower-case key. Returns {} (nothing accepted), {-1} (the id is another
// lane's) or the record as observe returns it. It does what the memory store does in three steps (the
// submit's end, filing the instruction and its key, observing its status on the instruction's device).
// When the instruction's device is the submit's own (always, but for a replay answered with an instruction
// on another device), the guard read at the start is the one observed: it is not read again, and it is
// written once, not once per step (callgrind: 477,000 -> 448,000 instructions for a refund's four
// scripts).
var settleScript = goredis.NewScript(head + `
local dk, accepted, life = P .. 'dev:' .. ARGV[3], ARGV[8] == '1', tonumber(ARGV[6])
local v
if accepted then v = redis.call('MGET', dk, P .. 'ins:' .. ARGV[9]) else v = {redis.call('GET', dk)} end
local g = v[1] and cmsgpack.unpack(v[1])
if g and now - g[4] >= life then g = nil end
local mine = g and g[1] == ARGV[4]
if mine then
  g[4], g[5], g[6] = now, math.max(g[5] - 1, 0), g[6] or ARGV[5] == '1'
end
local r = accepted and v[2] and cmsgpack.unpack(v[2])
local foreign = accepted and r and r[1] ~= ARGV[10]
local id, final, audit, rs = ARGV[9], ARGV[16] == '1', 0
if accepted and not foreign then
  if final and not (r and r[9]) then audit = 1 end
  if r then
    r[4], r[9] = ARGV[11], r[9] or final
  else
    r = {ARGV[10], ARGV[3], ARGV[4], ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15], final}
  end
  rs = cmsgpack.pack(r)
  redis.call('SET', P .. 'ins:' .. id, rs, 'PX', ARGV[7])
  redis.call('SET', P .. 'key:' .. ARGV[18], ARGV[10], 'PX', ARGV[7])
  if mine then
    g[6] = r[2] == ARGV[3]
    if g[6] then g[3] = id end
  end
end
local same = accepted and not foreign and r[2] == ARGV[3]
if mine and not same then
  if g[5] == 0 and not g[6] then redis.call('DEL', dk) else redis.call('SET', dk, cmsgpack.pack(g), 'PX', ARGV[6]) end
end
if not accepted then return {} end
if foreign then return {-1} end
local rk, h = P .. 'dev:' .. r[2], g
if not same then
  local hv = redis.call('GET', rk)
  h = hv and cmsgpack.unpack(hv)
end
if h and now - h[4] < life and (h[3] == id or h[1] == r[3]) then
  if final then
    redis.call('DEL', rk)
  else
    h[4] = now
    redis.call('SET', rk, cmsgpack.pack(h), 'PX', ARGV[6])
  end
elseif same and mine then
  redis.call('SET', dk, cmsgpack.pack(g), 'PX', ARGV[6])
end
if ARGV[17] ~= '' then redis.call('SET', P .. 'ref:' .. ARGV[17], r[1], 'PX', ARGV[7]) end
return {audit, id, rs}
`)

// lookupScript: ARGV 3 token, 4 interval, 5 burst, 6 id, 7 lane, 8 busy + send timeout. Returns
// {admitLua, wait} and, when the lane's, the record as stored (see record.go).
var lookupScript = goredis.NewScript(head + gate + `
local id = ARGV[6]
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok, P .. 'ins:' .. id)
local rev, rate = v[1], v[2]
` + admitLua + `
if a ~= 0 then return {a, w} end
local r = v[3] and cmsgpack.unpack(v[3])
if not r or r[1] ~= ARGV[7] then return {0, 0} end
local dk = P .. 'dev:' .. r[2]
local gv = redis.call('GET', dk)
if gv then
  local g = cmsgpack.unpack(gv)
  if g[3] == id and now - g[4] < tonumber(ARGV[8]) then
    g[4] = now
    redis.call('SET', dk, cmsgpack.pack(g), 'PX', ARGV[8])
  end
end
return {0, 0, v[3]}
`)

// observeScript: ARGV 3 id, 4 final (0/1), 5 refund id, 6 ttl, 7 busy + send timeout. Returns {audit flag,
// id, the record as stored} (see record.go), as settle does, or an empty table.
var observeScript = goredis.NewScript(head + `
local id, final = ARGV[3], ARGV[4] == '1'
local ik = P .. 'ins:' .. id
local v = redis.call('GET', ik)
if not v then return {} end
local r = cmsgpack.unpack(v)
local dk = P .. 'dev:' .. r[2]
local gv = redis.call('GET', dk)
if gv then
  local g = cmsgpack.unpack(gv)
  if now - g[4] < tonumber(ARGV[7]) and (g[3] == id or g[1] == r[3]) then
    if final then
      redis.call('DEL', dk)
    else
      g[4] = now
      redis.call('SET', dk, cmsgpack.pack(g), 'PX', ARGV[7])
    end
  end
end
if ARGV[5] ~= '' then redis.call('SET', P .. 'ref:' .. ARGV[5], r[1], 'PX', ARGV[6]) end
local audit = 0
if final and not r[9] then
  r[9], audit = true, 1
  v = cmsgpack.pack(r)
  redis.call('SET', ik, v, 'KEEPTTL')
end
return {audit, id, v}
`)

// refundScript: ARGV 3 token, 4 interval, 5 burst, 6 refund id. Returns {admitLua, wait, lane or false}.
var refundScript = goredis.NewScript(head + gate + `
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok, P .. 'ref:' .. ARGV[6])
local rev, rate = v[1], v[2]
` + admitLua + `
if a ~= 0 then return {a, w} end
return {0, 0, v[3]}
`)

// holderScript: ARGV 3 serial, 4 busy timeout, 5 busy + send timeout. Returns the record of the instruction
// holding the device (as observe does, audit flag 0) or an empty table: free, idle, or no instruction yet.
var holderScript = goredis.NewScript(head + `
local gv = redis.call('GET', P .. 'dev:' .. ARGV[3])
if not gv then return {} end
local g = cmsgpack.unpack(gv)
local quiet = now - g[4]
if g[3] == '' or (g[5] == 0 and quiet >= tonumber(ARGV[4])) or quiet >= tonumber(ARGV[5]) then return {} end
local v = redis.call('GET', P .. 'ins:' .. g[3])
if not v then return {} end
local r = cmsgpack.unpack(v)
return {0, g[3], v}
`)

// releaseScript: ARGV 3 id, 4 busy + send timeout.
var releaseScript = goredis.NewScript(head + `
local v = redis.call('GET', P .. 'ins:' .. ARGV[3])
if not v then return 0 end
local r = cmsgpack.unpack(v)
local dk = P .. 'dev:' .. r[2]
local gv = redis.call('GET', dk)
if gv then
  local g = cmsgpack.unpack(gv)
  if now - g[4] < tonumber(ARGV[4]) and (g[3] == ARGV[3] or g[1] == r[3]) then redis.call('DEL', dk) end
end
return 0
`)

// busyScript: ARGV 3 busy timeout, 4 busy + send timeout, 5… serials. Counts the serials whose guard is
// still held (not timed out), as the memory store does. Returns {count}.
var busyScript = goredis.NewScript(head + `
local busy, life = tonumber(ARGV[3]), tonumber(ARGV[4])
local keys = {}
for i = 5, #ARGV do keys[#keys + 1] = P .. 'dev:' .. ARGV[i] end
if #keys == 0 then return {0} end
local vals = redis.call('MGET', unpack(keys))
local n = 0
for i = 1, #keys do
  if vals[i] then
    local g = cmsgpack.unpack(vals[i])
    local quiet = now - g[4]
    if not ((g[5] == 0 and quiet >= busy) or quiet >= life) then n = n + 1 end
  end
end
return {n}
`)

// revokeScript: ARGV 3 token id, 4 until, 5 lifetime (ms). A later until wins.
var revokeScript = goredis.NewScript(head + `
local k = P .. 'rev:' .. ARGV[3]
local old = tonumber(redis.call('GET', k) or 0)
if tonumber(ARGV[4]) > old then redis.call('SET', k, ARGV[4], 'PX', ARGV[5]) end
return 0
`)
