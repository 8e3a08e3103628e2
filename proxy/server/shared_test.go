package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/clocktest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/state"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
)

// withRedis keeps the proxy's state on rs under prefix (the test's name when empty), with a call timeout
// generous enough for a loaded test machine.
func withRedis(t *testing.T, rs *redistest.Server, prefix string) option {
	return withRedisTimeout(t, rs, prefix, 5*time.Second)
}

// withRedisTimeout is withRedis with the store's call timeout (0: its default, 500 ms).
func withRedisTimeout(t *testing.T, rs *redistest.Server, prefix string, timeout time.Duration) option {
	if prefix == "" {
		prefix = strings.NewReplacer("/", ":", " ", "_").Replace(t.Name()) + ":"
	}
	return func(_ *sim.Config, c *server.Config) {
		c.State = &lateState{build: func(c server.Config) state.State {
			set := c.StateSettings()
			set.Timeout = timeout
			st, rdb, err := redisstate.Open(rs.URL(), prefix, set)
			require.NoError(t, err)
			t.Cleanup(func() { _ = rdb.Close() })
			return st
		}}
	}
}

// backends runs f once on each backend: the same behaviour is wanted from both.
func backends(t *testing.T, f func(t *testing.T, state option)) {
	t.Run("memory", func(t *testing.T) { f(t, func(*sim.Config, *server.Config) {}) })
	t.Run("redis", func(t *testing.T) { f(t, withRedis(t, redistest.Start(t), "")) })
}

// instance is one more proxy on h's configuration (same simulator, same state backend), as a second
// instance behind a load balancer.
func (h *harness) instance() string {
	h.t.Helper()
	p, err := server.New(h.cfg)
	require.NoError(h.t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, l) }()
	h.t.Cleanup(func() { cancel(); <-done })
	return "http://" + l.Addr().String()
}

// via sends a request to the instance at base instead of h's own.
func (h *harness) via(base, method, path, token string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	own := h.url
	h.url = base
	defer func() { h.url = own }()
	return h.do(method, path, token, body, hdr)
}

func decodeInstruction(t *testing.T, body []byte) payroc.RefundInstruction {
	t.Helper()
	var inst payroc.RefundInstruction
	require.NoError(t, json.Unmarshal(body, &inst), "%s", body)
	return inst
}

// The API's lane rules hold the same on both backends: scope, the device guard, replays, cancel, refunds.
func TestAPIOnBothBackends(t *testing.T) {
	backends(t, func(t *testing.T, state option) {
		h := newHarness(t, state)
		front1, front2 := h.token("front-1", 50000), h.token("front-2", 50000)

		stuck, key := h.mustSubmit(front1, "1850010868", 1003, "") // no card is presented: stays in progress
		assert.Equal(t, "1", h.busyGauge(), "the held device is counted")
		res, body, _ := h.submit(front2, "1850010868", 1000, "")
		problemOf(t, res, body, 409, "device-busy")
		res, body, _ = h.submit(front1, "1850010868", 1003, key)
		require.Equal(t, http.StatusAccepted, res.StatusCode, "a replay with the same key passes: %s", body)
		assert.Equal(t, stuck.RefundInstructionID, decodeInstruction(t, body).RefundInstructionID)
		res, body, _ = h.submit(front2, "1850010868", 1003, key)
		problemOf(t, res, body, 409, "idempotency-key-in-use")

		res, body = h.do("GET", "/v1/refund-instructions/"+stuck.RefundInstructionID, front2, nil, nil)
		problemOf(t, res, body, 404, "not-found")
		res, body = h.do("DELETE", "/v1/refund-instructions/"+stuck.RefundInstructionID, front1, nil, nil)
		require.Equal(t, http.StatusNoContent, res.StatusCode, "cancel: %s", body)

		done, _ := h.mustSubmit(front2, "1850010868", 1000, "") // the cancel freed the device
		final := h.waitFinal(front2, done.RefundInstructionID)
		require.Equal(t, payroc.StatusCompleted, final.Status)
		refundID := payroc.RefundIDFromLink(final.Link)
		require.NotEmpty(t, refundID)
		res, body = h.do("GET", "/v1/refunds/"+refundID, front2, nil, nil)
		assert.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
		res, body = h.do("GET", "/v1/refunds/"+refundID, front1, nil, nil)
		problemOf(t, res, body, 404, "not-found")
		assert.Len(t, h.submitsUpstream(), 3, "the refused submits never reached Payroc")
		assert.Equal(t, "0", h.busyGauge(), "no device is held once every refund has ended")
	})
}

// busyGauge is the proxy's payroc_proxy_busy_devices value ("" when /metrics lacks it).
func (h *harness) busyGauge() string {
	h.t.Helper()
	res, body := h.do("GET", "/metrics", "", nil, nil)
	require.Equal(h.t, http.StatusOK, res.StatusCode)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, "payroc_proxy_busy_devices "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// The rate limit and revocation hold the same on both backends.
func TestAdmissionOnBothBackends(t *testing.T) {
	backends(t, func(t *testing.T, state option) {
		clock := clocktest.New() // no refill while the test runs
		h := newHarness(t, state, func(_ *sim.Config, c *server.Config) { c.Rate = 1; c.Now = clock.Now; c.AdminKey = testAdminKey })
		tok := h.adminToken("front-1", "1h")
		for i := range 3 {
			res, body := h.do("GET", "/lane", tok.Token, nil, nil)
			require.Equal(t, http.StatusOK, res.StatusCode, "request %d within the burst: %s", i+1, body)
		}
		res, body := h.do("GET", "/v1/refund-instructions/00000000-0000-4000-8000-000000000001", tok.Token, nil, nil)
		problemOf(t, res, body, 429, "rate-limited")
		assert.Equal(t, "1", res.Header.Get("Retry-After"))
		res, body, _ = h.submit(tok.Token, "1850010868", 1000, "")
		problemOf(t, res, body, 429, "rate-limited")
		clock.Advance(time.Second)

		res, _ = h.revoke("Bearer "+testAdminKey, tok.TokenID)
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		res, body = h.do("GET", "/lane", tok.Token, nil, nil)
		problemOf(t, res, body, 401, "lane-token-revoked")
		res, body, _ = h.submit(tok.Token, "1850010868", 1000, "")
		problemOf(t, res, body, 401, "lane-token-revoked")
		res, body = h.do("GET", "/v1/refunds/00000000-0000-4000-8000-000000000001", tok.Token, nil, nil)
		problemOf(t, res, body, 401, "lane-token-revoked")
		assert.Empty(t, h.submitsUpstream())
	})
}

// Two instances on one Redis behave as one proxy: submit through one, watch and cancel through the other,
// one device guard, one rate limit, one revocation list.
func TestTwoInstancesShareOneTruth(t *testing.T) {
	clock := clocktest.New()
	h := newHarness(t, withRedis(t, redistest.Start(t), ""), func(_ *sim.Config, c *server.Config) {
		c.AdminKey = testAdminKey
		c.Rate = 2 // burst 6 across both instances
		c.Now = clock.Now
	})
	a, b := h.url, h.instance()
	front1, front2 := h.token("front-1", 50000), h.token("front-2", 50000)

	res, body := h.via(a, "POST", "/v1/devices/1850010868/refund-instructions", front1, refundBody("1850010868", 1003),
		map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey()})
	require.Equal(t, http.StatusAccepted, res.StatusCode, "%s", body)
	id := decodeInstruction(t, body).RefundInstructionID
	res, body = h.via(b, "POST", "/v1/devices/1850010868/refund-instructions", front2, refundBody("1850010868", 1000),
		map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey()})
	problemOf(t, res, body, 409, "device-busy")
	res, body = h.via(b, "GET", "/v1/refund-instructions/"+id, front1, nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the other instance knows the lane's instruction: %s", body)
	res, body = h.via(b, "GET", "/v1/refund-instructions/"+id, front2, nil, nil)
	problemOf(t, res, body, 404, "not-found")
	res, body = h.via(b, "DELETE", "/v1/refund-instructions/"+id, front1, nil, nil)
	require.Equal(t, http.StatusNoContent, res.StatusCode, "cancel through the other instance: %s", body)
	clock.Advance(10 * time.Second) // a full bucket again

	res, body = h.via(a, "POST", "/v1/devices/1850010868/refund-instructions", front2, refundBody("1850010868", 1000),
		map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey()})
	require.Equal(t, http.StatusAccepted, res.StatusCode, "the cancel on b freed the device for a: %s", body)

	// One bucket: 6 requests across both instances, then 429 on either.
	for i := range 6 {
		base := []string{a, b}[i%2]
		res, body = h.via(base, "GET", "/lane", front1, nil, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "request %d: %s", i+1, body)
	}
	for _, base := range []string{a, b} {
		res, body = h.via(base, "GET", "/lane", front1, nil, nil)
		problemOf(t, res, body, 429, "rate-limited")
	}

	tok := h.adminToken("front-3", "1h")
	res, _ = h.via(a, "DELETE", "/admin/lane-tokens/"+tok.TokenID, "", nil, map[string]string{"Authorization": "Bearer " + testAdminKey})
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	res, body = h.via(b, "GET", "/lane", tok.Token, nil, nil)
	problemOf(t, res, body, 401, "lane-token-revoked")
}

// With Redis gone the proxy fails closed: 503 state-unavailable with Retry-After, nothing forwarded, not
// ready; it recovers by itself when Redis is back. A Redis that hangs (paused) is the same, within the
// call timeout.
func TestStateUnavailableFailsClosed(t *testing.T) {
	rs := redistest.Start(t)
	h := newHarness(t, withRedisTimeout(t, rs, "closed:", 0)) // the default 500 ms: a hung Redis is an outage
	tok := h.token("front-1", 50000)
	inst, _ := h.mustSubmit(tok, "1850010868", 1003, "")
	before := h.upstreamTotal()

	for name, takeAway := range map[string][2]func(){
		"stopped": {rs.Stop, func() { require.NoError(t, rs.Start()) }},
		"paused":  {rs.Pause, rs.Resume},
	} {
		t.Run(name, func(t *testing.T) {
			takeAway[0]()
			start := time.Now()
			res, body, _ := h.submit(tok, "1850010869", 1000, "")
			p := problemOf(t, res, body, 503, "state-unavailable")
			assert.Equal(t, "1", res.Header.Get("Retry-After"))
			assert.Less(t, time.Since(start), 3*time.Second, "a hung Redis must not hang the cashier")
			assert.NotContains(t, p["detail"], rs.Addr())
			res, body = h.do("GET", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, nil)
			problemOf(t, res, body, 503, "state-unavailable")
			res, body = h.do("DELETE", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, nil)
			problemOf(t, res, body, 503, "state-unavailable")
			res, body = h.do("GET", "/lane", tok, nil, nil)
			problemOf(t, res, body, 503, "state-unavailable")
			res, body = h.do("GET", "/readyz", "", nil, nil)
			problemOf(t, res, body, 503, "state-unavailable")
			assert.Equal(t, before, h.upstreamTotal(), "nothing reached Payroc while the state was away")
			takeAway[1]()

			require.Eventually(t, func() bool {
				res, _ := h.do("GET", "/readyz", "", nil, nil)
				return res.StatusCode == http.StatusOK
			}, 10*time.Second, 20*time.Millisecond, "ready again once Redis is back")
			res, body = h.do("GET", "/lane", tok, nil, nil)
			assert.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
		})
	}
	_, metrics := h.do("GET", "/metrics", "", nil, nil)
	assert.Contains(t, string(metrics), "payroc_proxy_state_errors_total")
	assert.NotContains(t, string(metrics), rs.Addr())
	assert.NotContains(t, h.logs.String(), rs.Addr(), "the Redis address is in a log line")
}

// submitsUpstream counts the submits that reached the simulator.
func (h *harness) submitsUpstream() []upstreamRequest {
	var out []upstreamRequest
	for _, r := range h.rec.requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/refund-instructions") {
			out = append(out, r)
		}
	}
	return out
}

// observing counts the Observe calls on the store it wraps.
type observing struct {
	state.State
	observed atomic.Int32
}

func (o *observing) Observe(ctx context.Context, id string, st payroc.Status, refundID string, now time.Time) (state.Instruction, bool, error) {
	o.observed.Add(1)
	return o.State.Observe(ctx, id, st, refundID, now)
}

// A status GET that is still in progress makes one state call (the lookup before it is forwarded): on Redis
// each state call is a round trip, and a long-poll round that changed nothing has nothing to record. A final
// status is recorded (it frees the device and files the refund).
func TestStatusInProgressWritesNoState(t *testing.T) {
	st := &observing{}
	h := newHarness(t, func(_ *sim.Config, c *server.Config) {
		c.State = &lateState{build: func(c server.Config) state.State {
			st.State = state.NewMemory(c.StateSettings())
			return st
		}}
	})
	front1 := h.token("front-1", 50000)
	stuck, _ := h.mustSubmit(front1, "1850010868", 1003, "") // no card is presented: stays in progress
	res, body := h.do("GET", "/v1/refund-instructions/"+stuck.RefundInstructionID, front1, nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	require.Equal(t, payroc.StatusInProgress, decodeInstruction(t, body).Status)
	assert.Zero(t, st.observed.Load(), "an in-progress status is not recorded")

	res, body = h.do("DELETE", "/v1/refund-instructions/"+stuck.RefundInstructionID, front1, nil, nil)
	require.Equal(t, http.StatusNoContent, res.StatusCode, "cancel: %s", body)
	done, _ := h.mustSubmit(front1, "1850010868", 1000, "")
	h.waitFinal(front1, done.RefundInstructionID)
	assert.EqualValues(t, 2, st.observed.Load(), "the cancel and the final status are recorded")
	res, body, _ = h.submit(front1, "1850010868", 1000, "")
	assert.Equal(t, http.StatusAccepted, res.StatusCode, "the final status freed the device: %s", body)
}
