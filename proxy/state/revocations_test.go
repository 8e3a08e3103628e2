package state_test

import (
	"context"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/clocktest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/proxy/state"
)

func TestMemoryRevocations(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New()

	t.Run("RevokedUntilItsTime", func(t *testing.T) {
		m := state.NewMemoryRevocations(clock.Now, 10)
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(time.Hour)))
		got, err := m.Revoked(ctx, "tok-1")
		require.NoError(t, err)
		assert.True(t, got, "a token just revoked must be refused")
		got, _ = m.Revoked(ctx, "tok-2")
		assert.False(t, got, "another token id must not be refused")

		clock.Advance(time.Hour)
		got, _ = m.Revoked(ctx, "tok-1")
		assert.False(t, got, "a revocation must lapse when the token would have expired")
		assert.Equal(t, 0, m.Len(), "a lapsed entry must be forgotten")
	})
	t.Run("SecondRevocationNeverShortens", func(t *testing.T) {
		m := state.NewMemoryRevocations(clock.Now, 10)
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(2*time.Hour)))
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(time.Minute)))
		clock.Advance(time.Hour)
		got, _ := m.Revoked(ctx, "tok-1")
		assert.True(t, got, "revoking again with an earlier end must keep the later one")
	})
	t.Run("PastUntilRecordsNothing", func(t *testing.T) {
		m := state.NewMemoryRevocations(clock.Now, 10)
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(-time.Second)))
		assert.Equal(t, 0, m.Len())
	})
	t.Run("FullNeverDropsALiveEntry", func(t *testing.T) {
		m := state.NewMemoryRevocations(clock.Now, 2)
		require.NoError(t, m.Revoke(ctx, "short", clock.Now().Add(time.Minute)))
		require.NoError(t, m.Revoke(ctx, "long", clock.Now().Add(time.Hour)))
		err := m.Revoke(ctx, "third", clock.Now().Add(time.Hour))
		require.ErrorIs(t, err, state.ErrRevocationsFull, "a full list must refuse rather than forget a revocation")
		require.NoError(t, m.Revoke(ctx, "long", clock.Now().Add(2*time.Hour)), "an id already listed is no new entry")

		clock.Advance(time.Minute) // "short" lapses and makes room
		require.NoError(t, m.Revoke(ctx, "third", clock.Now().Add(time.Hour)))
		for _, id := range []string{"long", "third"} {
			got, _ := m.Revoked(ctx, id)
			assert.True(t, got, "%s must still be revoked", id)
		}
	})
}
