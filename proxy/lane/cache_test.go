package lane

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A token verified once is answered from the cache, and still runs out on time. The bubble's clock is
// time.Now, moved by time.Sleep: no clock of the test's own.
func TestLaneVerifyCacheHonoursExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ring(t, keyA)
		tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Minute})
		require.NoError(t, err)
		for range 3 {
			_, err := k.Verify(tok)
			require.NoError(t, err)
		}
		require.Len(t, k.verified, 1, "tokens in the cache")
		time.Sleep(time.Minute)
		c, err := k.Verify(tok)
		require.ErrorIs(t, err, ErrExpired)
		require.NotNil(t, c, "an expired token's claims come with ErrExpired")
		assert.Equal(t, "front-1", c.Lane)
		assert.Empty(t, k.verified, "an expired token stays in the cache")
		_, err = k.Verify(tok)
		assert.ErrorIs(t, err, ErrExpired, "the expired token verified again")
	})
}

// What Verify returns is the caller's own: changing it changes nothing for the next call.
func TestLaneVerifyCacheHandsOutCopies(t *testing.T) {
	k := ring(t, keyA)
	tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868", "1850010869"}, MaxAmount: 5000, TTL: time.Hour})
	require.NoError(t, err)
	for range 2 {
		c, err := k.Verify(tok)
		require.NoError(t, err)
		require.Equal(t, int64(5000), c.MaxAmount)
		require.Equal(t, []string{"1850010868", "1850010869"}, c.Devices)
		c.MaxAmount, c.Devices[0] = 1, "0"
	}
}

// A token differing from a cached one in any byte is verified on its own (and refused when forged).
func TestLaneVerifyCacheIsByExactText(t *testing.T) {
	k := ring(t, keyA)
	tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Hour})
	require.NoError(t, err)
	_, err = k.Verify(tok)
	require.NoError(t, err)
	last := tok[len(tok)-1]
	for _, bad := range []string{tok[:len(tok)-1], tok + "A", tok[:len(tok)-1] + string(last^1)} {
		_, err := k.Verify(bad)
		assert.ErrorIs(t, err, ErrInvalid, "Verify(%q)", bad)
	}
	_, err = ring(t, keyB).Verify(tok)
	assert.ErrorIs(t, err, ErrInvalid, "another keyring's answer")
}

func TestLaneVerifyCacheIsBounded(t *testing.T) {
	k := ring(t, keyA)
	for i := range cacheEntries + 50 {
		tok, _, err := k.Issue(Spec{Lane: fmt.Sprintf("lane-%d", i), Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Hour})
		require.NoError(t, err)
		_, err = k.Verify(tok)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, len(k.verified), cacheEntries, "tokens in the cache")
	assert.LessOrEqual(t, k.cached, cacheBytes, "bytes in the cache")
}

// BenchmarkLaneVerifyCache compares a cached token's check with a full one.
func BenchmarkLaneVerifyCache(b *testing.B) {
	k := ring(b, keyA)
	tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868", "1850010869", "1850010870", "1850010871"}, MaxAmount: 5000, TTL: time.Hour})
	require.NoError(b, err)
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
