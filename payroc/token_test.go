//go:build !js

package payroc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// identityServer is a Payroc-like identity service counting mints; gate, when set, holds each mint until
// it is closed (or receives).
type identityServer struct {
	calls  atomic.Int32
	fail   atomic.Bool
	ttl    int
	gate   chan struct{}
	apiKey string
}

func (s *identityServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.calls.Add(1)
	if r.URL.Path != "/authorize" || r.Method != "POST" || r.Header.Get("Authorization") != "" {
		http.Error(w, "bad identity request", 400)
		return
	}
	if s.gate != nil {
		<-s.gate
	}
	if s.fail.Load() {
		writeJSON(w, 500, map[string]any{"type": ProblemTypeBase + "#api-error", "title": "Api error", "status": 500})
		return
	}
	if r.Header.Get("x-api-key") != s.apiKey {
		writeJSON(w, 401, map[string]any{"type": ProblemTypeBase + "#not-authorized", "title": "Not Authorized", "status": 401})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("bearer-%d", n), "token_type": "Bearer", "expires_in": s.ttl})
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newCache(t *testing.T, id *identityServer, clock *fakeClock) *TokenCache {
	srv := httptest.NewServer(id)
	t.Cleanup(srv.Close)
	idn := &Identity{BaseURL: srv.URL, APIKey: id.apiKey, Now: clock.Now}
	return &TokenCache{Mint: idn.Mint, Now: clock.Now, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}
}

func TestTokenCacheOneMintForManyCallers(t *testing.T) {
	id := &identityServer{ttl: 3600, apiKey: "k", gate: make(chan struct{})}
	c := newCache(t, id, &fakeClock{now: time.Now()})
	const callers = 1000
	var started, done sync.WaitGroup
	tokens := make(chan string, callers)
	for range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			tok, err := c.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			tokens <- tok
		}()
	}
	started.Wait()
	close(id.gate)
	done.Wait()
	close(tokens)
	for tok := range tokens {
		if tok != "bearer-1" {
			t.Fatalf("a caller got %q, want bearer-1", tok)
		}
	}
	if n := id.calls.Load(); n != 1 {
		t.Errorf("%d identity calls, want 1", n)
	}
}

func TestTokenCacheRefreshesBeforeExpiryWithoutMakingCallersWait(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	id := &identityServer{ttl: 3600, apiKey: "k"}
	c := newCache(t, id, clock)
	if tok, err := c.Token(context.Background()); err != nil || tok != "bearer-1" {
		t.Fatalf("first token %q, %v", tok, err)
	}
	// Into the refresh window: the identity service now holds its answer; callers must not wait for it.
	id.gate = make(chan struct{})
	clock.Add(3600*time.Second - 4*time.Minute)
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		tok, err := c.Token(ctx)
		cancel()
		if err != nil || tok != "bearer-1" {
			t.Fatalf("in the refresh window got %q, %v; want the cached bearer-1 at once", tok, err)
		}
	}
	close(id.gate)
	deadline := time.Now().Add(5 * time.Second)
	for {
		tok, _ := c.Token(context.Background())
		if tok == "bearer-2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background refresh never replaced the token")
		}
		time.Sleep(time.Millisecond) // polling with a deadline, not synchronisation by sleep
	}
	if n := id.calls.Load(); n != 2 {
		t.Errorf("%d identity calls, want 2 (one per lifetime)", n)
	}
}

func TestTokenCacheBacksOffWhileIdentityFails(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	id := &identityServer{ttl: 3600, apiKey: "k"}
	id.fail.Store(true)
	c := newCache(t, id, clock)
	for range 50 {
		_, err := c.Token(context.Background())
		if !errors.Is(err, &Error{Code: CodeIdentityUnavailable}) {
			t.Fatalf("err = %v, want identity-unavailable", err)
		}
	}
	if n := id.calls.Load(); n != 1 {
		t.Fatalf("%d identity calls during the backoff, want 1", n)
	}
	id.fail.Store(false)
	clock.Add(1100 * time.Millisecond)
	if tok, err := c.Token(context.Background()); err != nil || tok != "bearer-2" {
		t.Fatalf("after the backoff got %q, %v", tok, err)
	}
}

func TestTokenCacheRenewDropsTheRefusedToken(t *testing.T) {
	id := &identityServer{ttl: 3600, apiKey: "k"}
	c := newCache(t, id, &fakeClock{now: time.Now()})
	tok, _ := c.Token(context.Background())
	if got, err := c.Renew(context.Background(), tok, nil); err != nil || got != "bearer-2" {
		t.Fatalf("Renew = %q, %v; want bearer-2", got, err)
	}
	// A late 401 for the old token must not throw away the new one.
	if got, _ := c.Renew(context.Background(), tok, nil); got != "bearer-2" || id.calls.Load() != 2 {
		t.Fatalf("stale Renew = %q after %d calls", got, id.calls.Load())
	}
}

func TestIdentityMintRefusesAWrongKey(t *testing.T) {
	id := &identityServer{ttl: 3600, apiKey: "right"}
	srv := httptest.NewServer(id)
	defer srv.Close()
	_, err := (&Identity{BaseURL: srv.URL, APIKey: "wrong"}).Mint(context.Background())
	if !errors.Is(err, &Error{Code: CodeNotAuthorized}) {
		t.Fatalf("err = %v, want not-authorized", err)
	}
}

func TestClientReplaysOnceAfterA401WithAFreshBearer(t *testing.T) {
	id := &identityServer{ttl: 3600, apiKey: "k"}
	clock := &fakeClock{now: time.Now()}
	cache := newCache(t, id, clock)
	var seen []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") == "Bearer bearer-1" { // revoked upstream
			writeJSON(w, 401, map[string]any{"type": ProblemTypeBase + "#not-authorized", "title": "Not Authorized", "status": 401})
			return
		}
		writeJSON(w, 200, Refund{RefundID: "CD3HN88U9F"})
	}))
	c.Tokens = cache
	if _, err := c.Refund(context.Background(), "CD3HN88U9F"); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[1] != "Bearer bearer-2" {
		t.Errorf("authorizations sent: %v", seen)
	}
}
