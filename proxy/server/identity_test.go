package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/clocktest"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// Identity goes down while the proxy's bearer expires: every call is answered 503 identity-unavailable with
// Retry-After, nothing goes upstream without a bearer (not even the expired one), identity is asked once per
// backoff rather than once per call, and once identity answers again the proxy carries on by itself.
func TestIdentityOutageWhileTheBearerExpires(t *testing.T) {
	clock := clocktest.New() // bearer expiry and backoff run on it: no expiry mid-test, however slow the machine
	h := newHarness(t, func(s *sim.Config, c *server.Config) {
		s.TokenTTL, s.Timeout = 10*time.Minute, time.Hour // the first refund stays in progress until finished
		c.MintMinBackoff, c.MintMaxBackoff = time.Second, time.Second
		c.Now = clock.Now
	})
	tok := h.token("front-1", 100000)
	first, _ := h.mustSubmit(tok, "1850010868", 403, "") // mints the bearer; stays in progress
	require.Equal(t, 1, h.sim.Stats().Requests[sim.RouteIdentity])

	require.NoError(t, h.sim.FailNext(2, http.StatusServiceUnavailable, sim.FailOptions{Route: sim.RouteIdentity}))
	clock.Advance(11 * time.Minute) // the bearer has expired
	before := h.sim.Stats().Requests
	key := payroc.NewIdempotencyKey()
	for _, call := range []struct{ name, method, path string }{
		{"a submit", "POST", "/v1/devices/1850010869/refund-instructions"},
		{"a status poll", "GET", "/v1/refund-instructions/" + first.RefundInstructionID},
	} {
		var body []byte
		if call.method == "POST" {
			body = refundBody("1850010869", 4999)
		}
		res, b := h.do(call.method, call.path, tok, body, map[string]string{"Idempotency-Key": key})
		problemOf(t, res, b, http.StatusServiceUnavailable, "identity-unavailable")
		require.NotEmpty(t, res.Header.Get("Retry-After"), "%s: 503 without Retry-After", call.name)
	}
	after := h.sim.Stats()
	require.Equal(t, before[sim.RouteSubmit], after.Requests[sim.RouteSubmit], "a submit went upstream without a bearer")
	require.Equal(t, before[sim.RouteGetInstruction], after.Requests[sim.RouteGetInstruction], "a poll went upstream without a bearer")
	require.Equal(t, 2, after.Requests[sim.RouteIdentity], "identity was asked more than once in one backoff")

	clock.Advance(1100 * time.Millisecond) // still down
	res, b, _ := h.submit(tok, "1850010869", 4999, key)
	problemOf(t, res, b, http.StatusServiceUnavailable, "identity-unavailable")
	clock.Advance(1100 * time.Millisecond) // back
	h.mustSubmit(tok, "1850010869", 4999, key)
	require.Equal(t, 4, h.sim.Stats().Requests[sim.RouteIdentity])
	require.NoError(t, h.sim.Finish(first.RefundInstructionID, payroc.StatusCanceled))
}
