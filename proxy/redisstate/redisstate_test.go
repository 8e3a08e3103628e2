package redisstate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/proxy/redisstate"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/server/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// open gives two instances' stores (each with its own connection pool) on one Redis under a prefix of the
// test's own.
func open(t *testing.T, srv *redistest.Server, set server.StoreSettings) (*redisstate.Store, *redisstate.Store, string) {
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
	storetest.Run(t, func(t *testing.T, set server.StoreSettings) (server.Store, server.Store) {
		a, b, prefix := open(t, srv, set)
		t.Cleanup(func() { assertEveryKeyExpires(t, srv, prefix) })
		return a, b
	})
}

// assertEveryKeyExpires checks that every key the suite left under prefix has a TTL: nothing grows without
// bound.
func assertEveryKeyExpires(t *testing.T, srv *redistest.Server, prefix string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
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
// password, and that are server.ErrStateUnavailable; a URL that is not redis:// is refused without being
// repeated.
func TestErrorsNameNoAddress(t *testing.T) {
	srv := redistest.Start(t, redistest.WithPassword("pw-9a8b7c6d5e4f3a2b"))
	srv.Stop()
	st, rdb, err := redisstate.Open(srv.URL(), "", server.StoreSettings{})
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
		assert.ErrorIs(t, err, server.ErrStateUnavailable, name)
		assert.NotContains(t, err.Error(), srv.Addr(), name)
		assert.NotContains(t, err.Error(), "pw-9a8b7c6d5e4f3a2b", name)
		// The cause stays as evidence ("connection refused", or a timeout on a loaded machine).
		assert.NotEqual(t, server.ErrStateUnavailable.Error(), err.Error(), name)
	}
	_, _, err = redisstate.Open("http://:pw-9a8b7c6d5e4f3a2b@127.0.0.1:1", "", server.StoreSettings{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw-9a8b7c6d5e4f3a2b")
	_, _, err = redisstate.Open("redis://:pw-9a8b7c6d5e4f3a2b@127.0.0.1:1/notanumber", "", server.StoreSettings{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "pw-9a8b7c6d5e4f3a2b")
}
