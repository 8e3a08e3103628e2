package redis

import (
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/posrefund/cloud/proxy/state"
)

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
// The scripts build the keys they touch from P instead of declaring them in KEYS, so they need one node:
// Redis Cluster is not supported (docs/deployment-redis.md).
//
// The scripts are built from the Lua fragments below as plain code, not shared functions: a script's
// local functions are created anew on every call. The settings that are the same on every call (the prefix,
// the rate, the timeouts) are written into each State's scripts as constants ($P, $T, $B, $BUSY, $LIFE,
// $TTL), not sent as arguments: Redis turns every argument into a Lua string, and the scripts turned the
// numeric ones back into numbers on every call. Instances with the same settings run the same scripts; the
// SHA1 names them.
//
// Answers are as small as the call needs, one integer where it can be: Redis turns each element of a table
// into a reply element, and go-redis reads each into an interface. The instructions both save are in
// bench/RESULTS.md.

// Admission codes, in the answers of the scripts that admit a request: 0 admitted, codeRevoked, or a positive
// wait in ms (rate limited). Reserve adds its own results below zero.
const (
	codeRevoked      = -1
	codeDeviceBusy   = -2
	codeKeyElsewhere = -3
)

// head opens every script. ARGV[1] is always now (ms).
const head = `
local P = $P
local now = tonumber(ARGV[1])
`

// admitLua checks a token: revocation, then one request from its GCRA bucket (interval $T ms, burst $B;
// $T <= 0: no limit). It expects tok and the values of its rev: and rate: keys (rev, rate), and sets a to 0
// (admitted), -1 (revoked) or the wait in ms (limited, at least 1).
const admitLua = `
local a = 0
if tok ~= '' then
  if rev and tonumber(rev) > now then
    a = -1
  elseif $T > 0 then
    local tat = rate and cmsgpack.unpack(rate) or now
    if tat < now then tat = now end
    local nt = tat + $T
    local allowAt = nt - $B * $T
    if now < allowAt then
      a = math.max(math.ceil(allowAt - now), 1)
    else
      redis.call('SET', P .. 'rate:' .. tok, cmsgpack.pack(nt), 'PX', math.max(math.ceil(nt - now), 1))
    end
  end
end
`

// admitSrc: ARGV 2 token. Returns admitLua's code.
const admitSrc = head + `
local tok = ARGV[2]
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok)
local rev, rate = v[1], v[2]
` + admitLua + `
return a
`

// reserveSrc: ARGV 2 token, 3 serial, 4 key, 5 lower-case key, 6 lane. Returns admitLua's code when not 0,
// else 0 (reserved), codeDeviceBusy or codeKeyElsewhere.
const reserveSrc = head + `
local tok, serial, key, lane = ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local dk, kk = P .. 'dev:' .. serial, P .. 'key:' .. ARGV[5]
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok, kk, dk)
local rev, rate = v[1], v[2]
` + admitLua + `
if a ~= 0 then return a end
if v[3] and v[3] ~= lane then return -3 end
if v[4] then
  local g = cmsgpack.unpack(v[4])
  local quiet, n = now - g[4], g[5]
  if not ((n == 0 and quiet >= $BUSY) or quiet >= $LIFE) then
    if g[1] ~= key or g[2] ~= lane then return -2 end
    g[4], g[5] = now, n + 1
    redis.call('SET', dk, cmsgpack.pack(g), 'PX', $LIFE)
    return 0
  end
end
redis.call('SET', dk, cmsgpack.pack({key, lane, '', now, 1, false}), 'PX', $LIFE)
redis.call('SET', kk, lane, 'PX', $TTL)
return 0
`

// settleSrc: ARGV 2 serial, 3 key, 4 reached (0/1), 5 accepted (0/1), then when accepted 6 id, 7 lane,
// 8 token id, 9 amount, 10 currency, 11 order id, 12 submitted, 13 final (0/1), 14 refund id, 15 lower-case
// key. Returns 0 (nothing accepted), -1 (the id is another lane's) or {audit flag, the record as stored}
// (see record.go). It does what the memory store does in three steps (the submit's end, filing the
// instruction and its key, observing its status on the instruction's device). When the instruction's device
// is the submit's own (always, but for a replay answered with an instruction on another device), the guard
// read at the start is the one observed: it is not read again, and it is written once, not once per step.
const settleSrc = head + `
local dk, accepted = P .. 'dev:' .. ARGV[2], ARGV[5] == '1'
local v
if accepted then v = redis.call('MGET', dk, P .. 'ins:' .. ARGV[6]) else v = {redis.call('GET', dk)} end
local g = v[1] and cmsgpack.unpack(v[1])
if g and now - g[4] >= $LIFE then g = nil end
local mine = g and g[1] == ARGV[3]
if mine then
  g[4], g[5], g[6] = now, math.max(g[5] - 1, 0), g[6] or ARGV[4] == '1'
end
local r = accepted and v[2] and cmsgpack.unpack(v[2])
local foreign = accepted and r and r[1] ~= ARGV[7]
local id, final, audit, rs = ARGV[6], ARGV[13] == '1', 0
if accepted and not foreign then
  if final and not (r and r[9]) then audit = 1 end
  if r then
    r[4], r[9] = ARGV[8], r[9] or final
  else
    r = {ARGV[7], ARGV[2], ARGV[3], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12], final}
  end
  rs = cmsgpack.pack(r)
  redis.call('SET', P .. 'ins:' .. id, rs, 'PX', $TTL)
  redis.call('SET', P .. 'key:' .. ARGV[15], ARGV[7], 'PX', $TTL)
  if mine then
    g[6] = r[2] == ARGV[2]
    if g[6] then g[3] = id end
  end
end
local same = accepted and not foreign and r[2] == ARGV[2]
if mine and not same then
  if g[5] == 0 and not g[6] then redis.call('DEL', dk) else redis.call('SET', dk, cmsgpack.pack(g), 'PX', $LIFE) end
end
if not accepted then return 0 end
if foreign then return -1 end
local rk, h = P .. 'dev:' .. r[2], g
if not same then
  local hv = redis.call('GET', rk)
  h = hv and cmsgpack.unpack(hv)
end
if h and now - h[4] < $LIFE and (h[3] == id or h[1] == r[3]) then
  if final then
    redis.call('DEL', rk)
  else
    h[4] = now
    redis.call('SET', rk, cmsgpack.pack(h), 'PX', $LIFE)
  end
elseif same and mine then
  redis.call('SET', dk, cmsgpack.pack(g), 'PX', $LIFE)
end
if ARGV[14] ~= '' then redis.call('SET', P .. 'ref:' .. ARGV[14], r[1], 'PX', $TTL) end
return {audit, rs}
`

// lookupSrc: ARGV 2 token, 3 id, 4 lane. Returns admitLua's code when not 0, the record as stored when it is
// the lane's (see record.go), else 0.
const lookupSrc = head + `
local tok, id = ARGV[2], ARGV[3]
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok, P .. 'ins:' .. id)
local rev, rate = v[1], v[2]
` + admitLua + `
if a ~= 0 then return a end
local r = v[3] and cmsgpack.unpack(v[3])
if not r or r[1] ~= ARGV[4] then return 0 end
local dk = P .. 'dev:' .. r[2]
local gv = redis.call('GET', dk)
if gv then
  local g = cmsgpack.unpack(gv)
  if g[3] == id and now - g[4] < $LIFE then
    g[4] = now
    redis.call('SET', dk, cmsgpack.pack(g), 'PX', $LIFE)
  end
end
return v[3]
`

// observeSrc: ARGV 2 id, 3 final (0/1), 4 refund id. Returns {audit flag, the record as stored} (see
// record.go), as settle does, or 0.
const observeSrc = head + `
local id, final = ARGV[2], ARGV[3] == '1'
local ik = P .. 'ins:' .. id
local v = redis.call('GET', ik)
if not v then return 0 end
local r = cmsgpack.unpack(v)
local dk = P .. 'dev:' .. r[2]
local gv = redis.call('GET', dk)
if gv then
  local g = cmsgpack.unpack(gv)
  if now - g[4] < $LIFE and (g[3] == id or g[1] == r[3]) then
    if final then
      redis.call('DEL', dk)
    else
      g[4] = now
      redis.call('SET', dk, cmsgpack.pack(g), 'PX', $LIFE)
    end
  end
end
if ARGV[4] ~= '' then redis.call('SET', P .. 'ref:' .. ARGV[4], r[1], 'PX', $TTL) end
local audit = 0
if final and not r[9] then
  r[9], audit = true, 1
  v = cmsgpack.pack(r)
  redis.call('SET', ik, v, 'KEEPTTL')
end
return {audit, v}
`

// refundSrc: ARGV 2 token, 3 refund id. Returns admitLua's code when not 0, else the lane or 0.
const refundSrc = head + `
local tok = ARGV[2]
local v = redis.call('MGET', P .. 'rev:' .. tok, P .. 'rate:' .. tok, P .. 'ref:' .. ARGV[3])
local rev, rate = v[1], v[2]
` + admitLua + `
if a ~= 0 then return a end
return v[3] or 0
`

// holderSrc: ARGV 2 serial. Returns {id, the record as stored} of the instruction holding the device, or 0:
// free, idle, or no instruction yet.
const holderSrc = head + `
local gv = redis.call('GET', P .. 'dev:' .. ARGV[2])
if not gv then return 0 end
local g = cmsgpack.unpack(gv)
local quiet = now - g[4]
if g[3] == '' or (g[5] == 0 and quiet >= $BUSY) or quiet >= $LIFE then return 0 end
local v = redis.call('GET', P .. 'ins:' .. g[3])
if not v then return 0 end
return {g[3], v}
`

// releaseSrc: ARGV 2 id.
const releaseSrc = head + `
local v = redis.call('GET', P .. 'ins:' .. ARGV[2])
if not v then return 0 end
local r = cmsgpack.unpack(v)
local dk = P .. 'dev:' .. r[2]
local gv = redis.call('GET', dk)
if gv then
  local g = cmsgpack.unpack(gv)
  if now - g[4] < $LIFE and (g[3] == ARGV[2] or g[1] == r[3]) then redis.call('DEL', dk) end
end
return 0
`

// busySrc: ARGV 2… serials. Counts the serials whose guard is still held (not timed out), as the memory
// store does.
const busySrc = head + `
local keys = {}
for i = 2, #ARGV do keys[#keys + 1] = P .. 'dev:' .. ARGV[i] end
if #keys == 0 then return 0 end
local vals = redis.call('MGET', unpack(keys))
local n = 0
for i = 1, #keys do
  if vals[i] then
    local g = cmsgpack.unpack(vals[i])
    local quiet = now - g[4]
    if not ((g[5] == 0 and quiet >= $BUSY) or quiet >= $LIFE) then n = n + 1 end
  end
end
return n
`

// revokeSrc: ARGV 2 token id, 3 until, 4 lifetime (ms). A later until wins.
const revokeSrc = head + `
local k = P .. 'rev:' .. ARGV[2]
local old = tonumber(redis.call('GET', k) or 0)
if tonumber(ARGV[3]) > old then redis.call('SET', k, ARGV[3], 'PX', ARGV[4]) end
return 0
`

// scripts are one State's scripts, its settings written in.
type scripts struct {
	admit, reserve, settle, lookup, observe, refund, holder, release, busy, revoke *goredis.Script
}

// newScripts writes prefix and set's rules into the scripts' text. interval is the GCRA emission interval
// in ms (0: no limit).
func newScripts(prefix string, interval float64, set state.Settings) scripts {
	// Longer names first: the replacer tries them in this order at each position.
	r := strings.NewReplacer("$BUSY", strconv.FormatInt(ms(set.BusyTimeout), 10), "$B", strconv.Itoa(set.Burst),
		"$LIFE", strconv.FormatInt(ms(set.BusyTimeout+set.SendTimeout), 10), "$TTL", strconv.FormatInt(ms(set.TTL), 10),
		"$T", strconv.FormatFloat(interval, 'f', -1, 64), "$P", luaString(prefix))
	s := func(src string) *goredis.Script { return goredis.NewScript(r.Replace(src)) }
	return scripts{admit: s(admitSrc), reserve: s(reserveSrc), settle: s(settleSrc), lookup: s(lookupSrc),
		observe: s(observeSrc), refund: s(refundSrc), holder: s(holderSrc), release: s(releaseSrc), busy: s(busySrc),
		revoke: s(revokeSrc)}
}

// luaString is s as a Lua string literal: every byte but letters, digits and a few safe signs as a decimal
// escape, so no prefix can end the literal or change the script.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := range len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(":_-.{}/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
