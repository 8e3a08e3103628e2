package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
	"github.com/posrefund/cloud/proxy/state/statetest"
)

// open gives two instances' stores (each with its own connection pool) on one Redis under a prefix of the
// test's own.
func open(t *testing.T, srv *redistest.Server, set state.Settings) (*redisstate.State, *redisstate.State, string) {
	t.Helper()
	prefix := "t" + strings.NewReplacer("/", ":", " ", "_").Replace(t.Name()) + ":"
	set.Timeout = 5 * time.Second // a loaded test machine is not a Redis outage
	a, ca, err := redisstate.Open(srv.URL(), prefix, set)
	require.NoError(t, err)
	b, cb, err := redisstate.Open(srv.URL(), prefix, set)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ca.Close(); _ = cb.Close() })
	return a, b, prefix
}

// The Redis backend passes the same suite as the memory one, with two instances on one Redis.
func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	statetest.Run(t, func(t *testing.T, set state.Settings) (state.State, state.State) {
		a, b, prefix := open(t, srv, set)
		t.Cleanup(func() { assertEveryKeyExpires(t, srv, prefix) })
		return a, b
	})
}

// assertEveryKeyExpires checks that every key the suite left under prefix has a TTL: nothing grows without
// bound.
func assertEveryKeyExpires(t *testing.T, srv *redistest.Server, prefix string) {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, time.Duration(0), "key %s has no TTL", k)
	}
}

// A Redis that cannot be reached gives errors that say why (for the logs) without the URL, address or
// password, and that are state.ErrUnavailable; a URL that is not redis:// is refused without being
// repeated.
func TestErrorsNameNoAddress(t *testing.T) {
	srv := redistest.Start(t, redistest.WithPassword("pw-9a8b7c6d5e4f3a2b"))
	srv.Stop()
	st, rdb, err := redisstate.Open(srv.URL(), "", state.Settings{})
	require.NoError(t, err)
	defer rdb.Close()
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"ping":    func() error { return st.Ping(ctx) },
		"admit":   func() error { _, err := st.Admit(ctx, "tok", time.Now()); return err },
		"revoked": func() error { _, err := st.Revoked(ctx, "tok"); return err },
	} {
		err := call()
		require.Error(t, err, name)
		assert.ErrorIs(t, err, state.ErrUnavailable, name)
		assert.NotContains(t, err.Error(), srv.Addr(), name)
		assert.NotContains(t, err.Error(), "pw-9a8b7c6d5e4f3a2b", name)
		// The cause stays as evidence ("connection refused", or a timeout on a loaded machine).
		assert.NotEqual(t, state.ErrUnavailable.Error(), err.Error(), name)
	}
	_, _, err = redisstate.Open("http://:pw-9a8b7c6d5e4f3a2b@127.0.0.1:1", "", state.Settings{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw-9a8b7c6d5e4f3a2b")
	_, _, err = redisstate.Open("redis://:pw-9a8b7c6d5e4f3a2b@127.0.0.1:1/notanumber", "", state.Settings{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw-9a8b7c6d5e4f3a2b")
}

// An accepted Settle files the key under its lane again, as the memory store does: ownership lives as long as
// the instruction, even when the entry Reserve wrote is gone (its TTL ran out first while replays kept the
// instruction alive, or Redis lost it), so another lane's submit with the key is refused before it is sent.
func TestSettleFilesKeyOwnership(t *testing.T) {
	srv := redistest.Start(t)
	a, b, prefix := open(t, srv, state.Settings{Rate: -1})
	ctx := context.Background()
	now := time.Now()
	const serial, key = "1850010868", "0B7C3F6E-2D4A-4C1B-9E8F-1A2B3C4D5E6F"
	_, res, err := a.Reserve(ctx, "", state.Reservation{Serial: serial, Key: key, Lane: "front-1"}, now)
	require.NoError(t, err)
	require.Equal(t, state.Reserved, res)
	_, err = srv.Do("DEL", prefix+"key:"+strings.ToLower(key))
	require.NoError(t, err)
	_, err = a.Settle(ctx, state.Settlement{Serial: serial, Key: key, Status: payroc.StatusCompleted,
		Accepted: &state.Instruction{ID: "inst-1", Serial: serial, Key: key, Lane: "front-1", Amount: 1250, Currency: "USD",
			OrderID: "ORDER-1001", SubmittedAt: now}}, now)
	require.NoError(t, err)
	_, res, err = b.Reserve(ctx, "", state.Reservation{Serial: serial, Key: key, Lane: "front-2"}, now)
	require.NoError(t, err)
	assert.Equal(t, state.KeyElsewhere, res, "the key is front-1's again once its instruction is filed")
}

// Every random history of store calls gets the same answers from Redis (two instances, one Redis) as from the
// memory store, on the same clock (statetest.Differential). make model runs it with thousands of histories.
func TestRedisAgreesWithMemory(t *testing.T) {
	srv := redistest.Start(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	a, b := redisstate.New(rdb, "", state.Settings{}), redisstate.New(rdb, "", state.Settings{})
	n := 0
	histories, calls := statetest.Differential(t, func(set state.Settings) (state.State, state.State) {
		n++
		prefix := "diff" + strconv.Itoa(n) + ":"
		set.Timeout = 5 * time.Second
		a, b = redisstate.New(rdb, prefix, set), redisstate.New(rdb, prefix, set)
		return a, b
	})
	t.Logf("model: stores: %d histories, %d calls on memory and on Redis, 0 disagreements", histories, calls)
}

// The prefix is written into the scripts as a Lua string: whatever bytes it holds, the keys are the prefix
// and nothing else, and the scripts still run (a quote or a backslash could otherwise end the literal).
func TestAnyPrefixIsWrittenIntoTheScriptsAsIs(t *testing.T) {
	srv := redistest.Start(t)
	for name, prefix := range map[string]string{
		"quote":        "it's:",
		"backslash":    `back\slash]]:`,
		"newline":      "two\nlines:",
		"lua comment":  "--[[x:",
		"utf-8":        "préfixe:",
		"control byte": "nul\x00byte:",
	} {
		t.Run(name, func(t *testing.T) {
			st, rdb, err := redisstate.Open(srv.URL(), prefix, state.Settings{Rate: 10, Burst: 5, Timeout: 5 * time.Second})
			require.NoError(t, err)
			t.Cleanup(func() { _ = rdb.Close() })
			ctx, now := context.Background(), time.Now()
			_, res, err := st.Reserve(ctx, "tok-1", state.Reservation{Serial: "1850010868", Key: "0b7c3f6e-2d4a-4c1b-9e8f-000000000001",
				Lane: "lane-1"}, now)
			require.NoError(t, err, "the script with this prefix must run")
			require.Equal(t, state.Reserved, res)
			keys, err := rdb.Keys(ctx, "*").Result()
			require.NoError(t, err)
			var ours []string
			for _, k := range keys {
				if strings.HasPrefix(k, prefix) {
					ours = append(ours, strings.TrimPrefix(k, prefix))
				}
			}
			assert.ElementsMatch(t, []string{"rate:tok-1", "dev:1850010868", "key:0b7c3f6e-2d4a-4c1b-9e8f-000000000001"}, ours,
				"keys under the prefix, byte for byte")
		})
	}
}
