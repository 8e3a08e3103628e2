package lane

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a hand-moved clock for the cache's expiry tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// A token verified once is answered from the cache, and still runs out on time.
func TestLaneVerifyCacheHonoursExpiry(t *testing.T) {
	clk := &clock{now: time.Now()}
	k := ring(t, keyA)
	k.Now = clk.Now
	tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := k.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if len(k.verified) != 1 {
		t.Fatalf("cache holds %d tokens, want 1", len(k.verified))
	}
	clk.add(time.Minute)
	c, err := k.Verify(tok)
	if !errors.Is(err, ErrExpired) || c == nil || c.Lane != "front-1" {
		t.Fatalf("after expiry: %+v, %v; want the claims with ErrExpired", c, err)
	}
	if len(k.verified) != 0 {
		t.Fatal("an expired token stayed in the cache")
	}
	if _, err := k.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired token verified again: %v", err)
	}
}

// What Verify returns is the caller's own: changing it changes nothing for the next call.
func TestLaneVerifyCacheHandsOutCopies(t *testing.T) {
	k := ring(t, keyA)
	tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868", "1850010869"}, MaxAmount: 5000, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := k.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.MaxAmount != 5000 || c.Devices[0] != "1850010868" {
			t.Fatalf("claims changed: %+v", c)
		}
		c.MaxAmount, c.Devices[0] = 1, "0"
	}
}

// A token differing from a cached one in any byte is verified on its own (and refused when forged).
func TestLaneVerifyCacheIsByExactText(t *testing.T) {
	k := ring(t, keyA)
	tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(tok); err != nil {
		t.Fatal(err)
	}
	last := tok[len(tok)-1]
	for _, bad := range []string{tok[:len(tok)-1], tok + "A", tok[:len(tok)-1] + string(last^1)} {
		if _, err := k.Verify(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Verify(altered) = %v, want ErrInvalid", err)
		}
	}
	if other := ring(t, keyB); func() bool { _, err := other.Verify(tok); return err == nil }() {
		t.Fatal("another keyring accepted the token")
	}
}

func TestLaneVerifyCacheIsBounded(t *testing.T) {
	k := ring(t, keyA)
	for i := range cacheEntries + 50 {
		tok, _, err := k.Issue(Spec{Lane: fmt.Sprintf("lane-%d", i), Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(k.verified); n > cacheEntries || k.cached > cacheBytes {
		t.Fatalf("cache holds %d tokens, %d bytes", n, k.cached)
	}
}

// BenchmarkLaneVerifyCache compares a cached token's check with a full one.
func BenchmarkLaneVerifyCache(b *testing.B) {
	k := ring(b, keyA)
	tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868", "1850010869", "1850010870", "1850010871"}, MaxAmount: 5000, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
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
