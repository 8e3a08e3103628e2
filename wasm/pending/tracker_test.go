//go:build !js

package pending_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/wasm/pending"
)

// simClient starts the simulator on a loopback server and returns it with a client whose requests (not its
// identity calls) go through a fresh Tracker.
func simClient(t *testing.T) (*sim.Simulator, *payroc.Client, *pending.Tracker) {
	t.Helper()
	s := sim.New(sim.Config{Delay: time.Hour, Hold: 50 * time.Millisecond})
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	doer := payroc.HTTPDoer{Client: srv.Client()}
	tr := pending.Track(doer)
	return s, &payroc.Client{
		BaseURL: srv.URL + "/v1",
		Doer:    tr,
		Tokens:  &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: s.APIKey(), Doer: doer}).Mint},
		Retry:   payroc.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxRetryAfter: time.Millisecond},
	}, tr
}

// The tracker says "refused" only when the simulator really made no instruction under the key: a refund
// whose record is dropped can never have happened.
func TestTrackerRefusedOnlyWhenNothingWasCreated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		arrange func(t *testing.T, s *sim.Simulator, ctx context.Context) context.Context
		refused bool
	}{
		{"approved", nil, false},
		{"device busy", failAll(409, "device-busy"), true},
		{"out of scope", failAll(403, "out-of-scope"), true},
		{"expired session", failAll(401, "lane-token-expired"), true},
		{"rate limited every time", failAll(429, ""), true},
		{"bad request", failAll(400, ""), true},
		{"identity unavailable at the proxy", failAll(503, "identity-unavailable"), true},
		{"idempotency key in use", failAll(409, "idempotency-key-in-use"), false},
		{"request timeout", failAll(408, ""), false},
		{"upstream error", failAll(502, "upstream-error"), false},
		{"service unavailable", failAll(503, ""), false},
		{"refused, then the answer lost", func(t *testing.T, s *sim.Simulator, ctx context.Context) context.Context {
			require.NoError(t, s.FailNext(1, 429, sim.FailOptions{Route: sim.RouteSubmit}))
			require.NoError(t, s.DropNext(1, sim.RouteSubmit))
			return ctx
		}, false},
		{"answer lost", func(t *testing.T, s *sim.Simulator, ctx context.Context) context.Context {
			require.NoError(t, s.DropNext(1, sim.RouteSubmit))
			return ctx
		}, false},
		{"gave up waiting", func(t *testing.T, s *sim.Simulator, ctx context.Context) context.Context {
			require.NoError(t, s.SetLatency(sim.RouteSubmit, time.Hour)) // held until the caller gives up
			// Long enough for the bearer's mint first on a busy machine; the submit is still held when it ends.
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			t.Cleanup(cancel)
			return ctx
		}, false},
		{"stopped before sending", func(_ *testing.T, _ *sim.Simulator, ctx context.Context) context.Context {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return ctx
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c, tr := simClient(t)
			ctx := t.Context()
			if tc.arrange != nil {
				ctx = tc.arrange(t, s, ctx)
			}
			key := payroc.NewIdempotencyKey()
			_, err := c.Submit(ctx, mustRefund(t, key))
			assert.Equal(t, tc.refused, tr.NothingCreated(), "NothingCreated after %v", err)
			if tr.NothingCreated() {
				assert.Zero(t, s.InstructionsFor(key), "refused, yet the simulator made an instruction")
			}
		})
	}
}

func failAll(status int, code string) func(*testing.T, *sim.Simulator, context.Context) context.Context {
	return func(t *testing.T, s *sim.Simulator, ctx context.Context) context.Context {
		require.NoError(t, s.FailNext(10, status, sim.FailOptions{Route: sim.RouteSubmit, Code: code, RetryAfter: time.Millisecond}))
		return ctx
	}
}

// DropIfNothingCreated removes only a record this call made, without an instruction id, after a proven refusal.
func TestDropIfNothingCreated(t *testing.T) {
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	refused := func(t *testing.T) *pending.Tracker {
		s, c, tr := simClient(t)
		require.NoError(t, s.FailNext(1, http.StatusConflict, sim.FailOptions{Route: sim.RouteSubmit, Code: payroc.CodeDeviceBusy}))
		_, err := c.Submit(t.Context(), mustRefund(t, key))
		require.Error(t, err)
		require.True(t, tr.NothingCreated())
		return tr
	}
	ambiguous := func(t *testing.T) *pending.Tracker {
		s, c, tr := simClient(t)
		require.NoError(t, s.FailNext(10, http.StatusBadGateway, sim.FailOptions{Route: sim.RouteSubmit}))
		_, err := c.Submit(t.Context(), mustRefund(t, key))
		require.Error(t, err)
		require.False(t, tr.NothingCreated())
		return tr
	}
	for _, tc := range []struct {
		name    string
		fresh   bool
		knownID bool
		tracker func(*testing.T) *pending.Tracker
		dropped bool
	}{
		{"this call's record, refused", true, false, refused, true},
		{"an earlier attempt's record", false, false, refused, false},
		{"an instruction id was seen", true, true, refused, false},
		{"maybe sent", true, false, ambiguous, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := pending.NewStore(&pending.MemoryStorage{})
			_, err := st.Begin(mustRefund(t, key))
			require.NoError(t, err)
			if tc.knownID {
				require.NoError(t, st.Observe(key, &payroc.RefundInstruction{RefundInstructionID: "a", Status: payroc.StatusInProgress}, true))
			}
			dropped, err := st.DropIfNothingCreated(key, tc.fresh, tc.tracker(t))
			require.NoError(t, err)
			assert.Equal(t, tc.dropped, dropped)
			rec, err := st.Get(key)
			require.NoError(t, err)
			assert.Equal(t, tc.dropped, rec == nil, "the record is gone exactly when dropped")
		})
	}
}
