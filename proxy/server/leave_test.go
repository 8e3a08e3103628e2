package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// Leaving (Serve's context ends, as on SIGTERM): /readyz turns not-ready at once, the open long-poll is
// answered with the current status instead of waiting out the grace, new requests are still answered (on
// connections that then close), a new long-poll is held only briefly, and a final status still comes
// through. The simulator holds every poll for a minute: only leaving can end one sooner.
func TestLeavingAnswersLongPollsAndKeepsServing(t *testing.T) {
	noLeaks(t)
	const hold = time.Minute // how long the simulator holds a status GET of a refund in progress
	h := newHarness(t, func(s *sim.Config, c *server.Config) {
		s.Hold, s.Timeout = hold, time.Hour // only the test and leaving end a poll or the refund
		c.ShutdownGrace = time.Minute
	})
	tok := h.token("front-1", 100000)
	inst, _ := h.mustSubmit(tok, "1850010868", 403, "") // stays in progress until the test finishes it
	id := inst.RefundInstructionID
	open := h.startPoll(context.Background(), tok, id)
	require.Eventually(t, func() bool { return h.heldPolls() == 1 }, 10*time.Second, 5*time.Millisecond, "the long-poll to be held")

	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- h.stop() }()

	r := <-open
	took := time.Since(start)
	require.Nil(t, r.err, "the open long-poll: %v", r)
	require.Equal(t, http.StatusOK, r.status, "the open long-poll: %v", r)
	var got payroc.RefundInstruction
	require.NoError(t, json.Unmarshal([]byte(r.body), &got), "the open long-poll: %v", r)
	require.Equal(t, payroc.StatusInProgress, got.Status, "the open long-poll: %v", r)
	require.Equal(t, h.url+"/v1/refund-instructions/"+id, got.Link.Href, "the open long-poll: %v", r)
	// Without leaving's answer the poll waits out the simulator's hold: well inside it means leaving ended it.
	require.Less(t, took, hold/2, "the open long-poll was answered only %v after leaving began", took)

	res, b := h.do("GET", "/readyz", "", nil, nil)
	problemOf(t, res, b, http.StatusServiceUnavailable, "shutting-down")
	res, b = h.do("GET", "/lane", tok, nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "a new request during the grace: %s", b)
	require.True(t, res.Close, "an answer during the grace closes its connection")

	// A new long-poll is held only briefly, then answered as it stands.
	res, b = h.do("GET", "/v1/refund-instructions/"+id, tok, nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "a new long-poll during the grace: %s", b)
	require.Contains(t, string(b), `"inProgress"`)
	// The device finishes: the next poll through the leaving proxy gets the final status.
	require.NoError(t, h.sim.Finish(id, payroc.StatusCompleted))
	final := h.waitFinal(tok, id)
	require.Equal(t, payroc.StatusCompleted, final.Status)
	require.Zero(t, h.heldPolls(), "a long-poll is still held upstream")

	select {
	case err := <-stopped:
		t.Fatalf("Serve returned (%v) before the grace was over", err)
	default:
	}
	h.proxy.Close() // ends the grace early
	require.NoError(t, <-stopped)
	h.client.CloseIdleConnections()
}
