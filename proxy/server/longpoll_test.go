package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// pollResult is one long-poll's outcome, from a goroutine.
type pollResult struct {
	status int
	body   string
	header http.Header
	err    error
}

// startPoll sends GET instruction in the background.
func (r pollResult) String() string {
	return fmt.Sprintf("status %d, body %s, error %v", r.status, r.body, r.err)
}

func (h *harness) startPoll(ctx context.Context, token, id string) <-chan pollResult {
	out := make(chan pollResult, 1)
	req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"/v1/refund-instructions/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	go func() {
		res, err := h.client.Do(req)
		if err != nil {
			out <- pollResult{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		out <- pollResult{status: res.StatusCode, body: string(b), header: res.Header, err: err}
	}()
	return out
}

// noLeaks checks, after every cleanup of the test has run, that no goroutine it started is left.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func (h *harness) heldPolls() int { return h.sim.Stats().HeldPolls }

func TestProxyClientDisconnectCancelsUpstreamPoll(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, func(s *sim.Config, _ *server.Config) { s.Hold = 20 * time.Second })
	tok := h.devToken()
	inst, _ := h.mustSubmit(tok, "1850010868", 403, "") // never finishes on its own
	ctx, cancel := context.WithCancel(context.Background())
	done := h.startPoll(ctx, tok, inst.RefundInstructionID)
	require.Eventually(t, func() bool { return h.heldPolls() == 1 }, 5*time.Second, 5*time.Millisecond, "the long-poll to be held upstream")
	cancel()
	start := time.Now()
	r := <-done
	require.ErrorIs(t, r.err, context.Canceled, "poll ended with %v", r)
	// Well inside the 20 s hold, however busy the machine: only a cancellation ends it this soon.
	require.Eventually(t, func() bool { return h.heldPolls() == 0 }, 10*time.Second, 5*time.Millisecond, "the upstream long-poll to end")
	d := time.Since(start)
	require.LessOrEqual(t, d, 10*time.Second, "upstream poll outlived the browser by %v", d)
	require.Eventually(t, func() bool {
		_, b := h.do("GET", "/metrics", "", nil, nil)
		return strings.Contains(string(b), "payroc_proxy_open_long_polls 0")
	}, 10*time.Second, 5*time.Millisecond, "the open long-poll gauge to drop")
	h.sim.Close()
	h.client.CloseIdleConnections()
	require.NoError(t, h.stop())
	h.client.CloseIdleConnections()
}

// slowWriteTimeout is the proxy's write timeout in the tests of answers that outlive it: long enough for any
// ordinary answer on a busy machine, short enough to wait out.
const slowWriteTimeout = time.Second

func TestProxyLongPollOutlivesWriteTimeout(t *testing.T) {
	h := newHarness(t, func(s *sim.Config, c *server.Config) {
		s.Hold = time.Hour                // the test ends the poll itself
		c.WriteTimeout = slowWriteTimeout // ordinary answers; long-polls extend their own
	})
	tok := h.devToken()
	inst, _ := h.mustSubmit(tok, "1850010868", 403, "")
	done := h.startPoll(context.Background(), tok, inst.RefundInstructionID)
	require.Eventually(t, func() bool { return h.heldPolls() == 1 }, 10*time.Second, 5*time.Millisecond, "the long-poll to be held upstream")
	time.Sleep(slowWriteTimeout + 500*time.Millisecond) // what is tested: the write timeout passes while it is held
	require.NoError(t, h.sim.Finish(inst.RefundInstructionID, payroc.StatusCompleted))
	r := <-done
	require.Nil(t, r.err, "long-poll: %v", r)
	require.EqualValues(t, 200, r.status, "long-poll: %v", r)
	require.Contains(t, r.body, `"completed"`, "long-poll: %v", r)
}

// Every upstream call may take longer than an ordinary answer's write timeout (a slow submit or cancel, not
// only a long-poll): the proxy extends the write deadline to the call's own bound, so the answer the device
// already acted on still reaches the page.
func TestProxySlowUpstreamAnswersOutliveWriteTimeout(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.WriteTimeout = slowWriteTimeout })
	tok := h.devToken()
	require.NoError(t, h.sim.SetLatency(sim.RouteAny, slowWriteTimeout+500*time.Millisecond))
	inst, _ := h.mustSubmit(tok, "1850010868", 403, "")
	res, b := h.do("DELETE", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, nil)
	require.Equal(t, http.StatusNoContent, res.StatusCode, "cancel: %d %s", res.StatusCode, b)
}

// One lane holds at most MaxPollsPerLane status long-polls open: the next is a 429 rate-limited with
// Retry-After, answered at once without reaching upstream; a renewed token of the same lane shares the
// count; another lane is not affected; a slot comes back when a poll ends.
func TestProxyCapsOpenLongPollsPerLane(t *testing.T) {
	noLeaks(t)
	h := newHarness(t, func(s *sim.Config, c *server.Config) { s.Hold = 20 * time.Second; c.MaxPollsPerLane = 2 })
	tok := h.token("front-1", 100000)
	inst, _ := h.mustSubmit(tok, "1850010868", 403, "") // never finishes on its own
	id := inst.RefundInstructionID
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := h.startPoll(ctx, tok, id)
	second := h.startPoll(ctx, h.token("front-1", 100000), id) // a renewed token of the same lane
	require.Eventually(t, func() bool { return h.heldPolls() == 2 }, 5*time.Second, 5*time.Millisecond, "two long-polls held upstream")

	before := h.upstreamTotal()
	res, b := h.do("GET", "/v1/refund-instructions/"+id, tok, nil, nil)
	problemOf(t, res, b, 429, "rate-limited")
	assert.NotEmpty(t, res.Header.Get("Retry-After"), "no Retry-After on the refused poll")
	after := h.upstreamTotal()
	require.Equal(t, before, after, "%d request(s) reached upstream", after-before)

	// Another lane's poll of its own instruction is not counted against front-1.
	other := h.token("front-2", 100000, "1850010869")
	inst2, _ := h.mustSubmit(other, "1850010869", 403, "")
	third := h.startPoll(ctx, other, inst2.RefundInstructionID)
	require.Eventually(t, func() bool { return h.heldPolls() == 3 }, 5*time.Second, 5*time.Millisecond, "front-2's long-poll held upstream")

	// Ending the instruction answers the two held polls; front-1 may poll again.
	require.NoError(t, h.sim.Finish(id, payroc.StatusCanceled))
	for _, ch := range []<-chan pollResult{first, second} {
		r := <-ch
		require.EqualValues(t, 200, r.status, "held poll: %v", r)
	}
	res, b = h.do("GET", "/v1/refund-instructions/"+id, tok, nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "poll after the slots came back: %d %s", res.StatusCode, b)
	cancel()
	<-third
	_ = h.sim.Finish(inst2.RefundInstructionID, payroc.StatusCanceled)
}
