//go:build !js

package payroc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// handlerDoer calls h in memory: no sockets, so the token cache's tests run inside a synctest bubble, whose
// clock (time.Now) moves only when time.Sleep says so.
func handlerDoer(h http.Handler) Doer {
	return DoerFunc(func(ctx context.Context, req *Request) (*Response, error) {
		hr := httptest.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
		for k, v := range req.Header {
			hr.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hr)
		out := &Response{StatusCode: rec.Code, Header: Header{}, Body: rec.Body.Bytes()}
		for k := range rec.Header() {
			out.Header.Set(k, rec.Header().Get(k))
		}
		return out, nil
	})
}

func newCache(id *identityServer) *TokenCache {
	idn := &Identity{BaseURL: "http://identity.invalid", APIKey: id.apiKey, Doer: handlerDoer(id)}
	return &TokenCache{Mint: idn.Mint, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}
}

func TestTokenCacheOneMintForManyCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		id := &identityServer{ttl: 3600, apiKey: "k", gate: make(chan struct{})}
		c := newCache(id)
		const callers = 1000
		tokens := make(chan string, callers)
		for range callers {
			go func() {
				tok, err := c.Token(context.Background())
				assert.NoError(t, err)
				tokens <- tok
			}()
		}
		synctest.Wait() // every caller is waiting: on the one mint, or for it
		close(id.gate)
		for range callers {
			require.Equal(t, "bearer-1", <-tokens)
		}
		assert.Equal(t, int32(1), id.calls.Load(), "identity calls")
	})
}

func TestTokenCacheRefreshesBeforeExpiryWithoutMakingCallersWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		id := &identityServer{ttl: 3600, apiKey: "k"}
		c := newCache(id)
		tok, err := c.Token(context.Background())
		require.NoError(t, err)
		require.Equal(t, "bearer-1", tok)
		// Into the refresh window: the identity service now holds its answer; callers must not wait for it.
		id.gate = make(chan struct{})
		time.Sleep(3600*time.Second - 4*time.Minute)
		for range 100 {
			tok, err := c.Token(context.Background())
			require.NoError(t, err)
			require.Equal(t, "bearer-1", tok, "in the refresh window, the cached token at once")
		}
		close(id.gate)
		synctest.Wait() // the background refresh is done
		tok, err = c.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "bearer-2", tok, "after the background refresh")
		assert.Equal(t, int32(2), id.calls.Load(), "identity calls: one per lifetime")
	})
}

func TestTokenCacheBacksOffWhileIdentityFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		id := &identityServer{ttl: 3600, apiKey: "k"}
		id.fail.Store(true)
		c := newCache(id)
		for range 50 {
			_, err := c.Token(context.Background())
			require.ErrorIs(t, err, &Error{Code: CodeIdentityUnavailable})
		}
		require.Equal(t, int32(1), id.calls.Load(), "identity calls during the backoff")
		id.fail.Store(false)
		time.Sleep(1100 * time.Millisecond)
		tok, err := c.Token(context.Background())
		require.NoError(t, err, "after the backoff")
		assert.Equal(t, "bearer-2", tok)
	})
}

func TestTokenCacheRenewDropsTheRefusedToken(t *testing.T) {
	id := &identityServer{ttl: 3600, apiKey: "k"}
	c := newCache(id)
	tok, err := c.Token(context.Background())
	require.NoError(t, err)
	got, err := c.Renew(context.Background(), tok, nil)
	require.NoError(t, err)
	require.Equal(t, "bearer-2", got)
	// A late 401 for the old token must not throw away the new one.
	got, err = c.Renew(context.Background(), tok, nil)
	require.NoError(t, err)
	assert.Equal(t, "bearer-2", got, "a stale Renew")
	assert.Equal(t, int32(2), id.calls.Load(), "identity calls")
}

func TestIdentityMintRefusesAWrongKey(t *testing.T) {
	id := &identityServer{ttl: 3600, apiKey: "right"}
	srv := httptest.NewServer(id)
	defer srv.Close()
	_, err := (&Identity{BaseURL: srv.URL, APIKey: "wrong"}).Mint(context.Background())
	assert.ErrorIs(t, err, &Error{Code: CodeNotAuthorized})
}

func TestClientReplaysOnceAfterA401WithAFreshBearer(t *testing.T) {
	id := &identityServer{ttl: 3600, apiKey: "k"}
	var seen []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") == "Bearer bearer-1" { // revoked upstream
			writeJSON(w, 401, map[string]any{"type": ProblemTypeBase + "#not-authorized", "title": "Not Authorized", "status": 401})
			return
		}
		writeJSON(w, 200, Refund{RefundID: "CD3HN88U9F"})
	}))
	c.Tokens = newCache(id)
	_, err := c.Refund(context.Background(), "CD3HN88U9F")
	require.NoError(t, err)
	assert.Equal(t, []string{"Bearer bearer-1", "Bearer bearer-2"}, seen, "authorizations sent")
}
