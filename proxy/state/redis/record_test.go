package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
)

// A record comes back from Redis as filed, whatever its strings' lengths (MessagePack's short, 8-, 16- and
// 32-bit string forms), on every call that answers with one; a record the proxy cannot read fails closed.
func TestRecordsComeBackAsFiled(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	now := time.UnixMilli(time.Now().UnixMilli())
	for name, order := range map[string]string{"short": "ORDER-1001", "str8": strings.Repeat("8", 200),
		"str16": strings.Repeat("6", 300), "str32": strings.Repeat("3", 70_000)} {
		t.Run(name, func(t *testing.T) {
			a, b, _ := open(t, srv, state.Settings{Rate: -1})
			const serial, key = "1850010868", "0b7c3f6e-2d4a-4c1b-9e8f-1a2b3c4d5e6f"
			_, res, err := a.Reserve(ctx, "", state.Reservation{Serial: serial, Key: key, Lane: "front-1"}, now)
			require.NoError(t, err)
			require.Equal(t, state.Reserved, res)
			want := state.Instruction{ID: "inst-" + name, Serial: serial, Key: key, Lane: "front-1", TokenID: "tok-1",
				Amount: 1250, Currency: "USD", OrderID: order, SubmittedAt: now}
			rec := want
			done, err := a.Settle(ctx, state.Settlement{Serial: serial, Key: key, Accepted: &rec, Status: payroc.StatusInProgress}, now)
			require.NoError(t, err)
			assert.Equal(t, want, done.Record, "settle")
			_, got, found, err := b.Lookup(ctx, "", want.ID, "front-1", now)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, want, got, "lookup")
			got, found, err = b.Holder(ctx, serial, now)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, want, got, "holder")
			got, audit, err := b.Observe(ctx, want.ID, payroc.StatusCompleted, "ref-1", now)
			require.NoError(t, err)
			assert.True(t, audit)
			assert.Equal(t, want, got, "observe")
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		a, _, prefix := open(t, srv, state.Settings{Rate: -1})
		_, err := srv.Do("SET", prefix+"ins:inst-old", "\x92\xa7front-1\xaa1850010868" /* lane and serial only */)
		require.NoError(t, err)
		_, _, found, err := a.Lookup(ctx, "", "inst-old", "front-1", now)
		require.ErrorIs(t, err, state.ErrUnavailable, "a record of another format must fail closed")
		assert.False(t, found)
	})
}
