package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// A submit whose answer never came may have reached the device. A later replay of its key that Payroc refuses
// (a 429 here) proves nothing about the first attempt, so the device must stay held against other keys.
func TestProxyBusyGuardKeptWhenAReplayIsRefusedAfterALostAnswer(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.CallTimeout = lostAnswerTimeout })
	tok := h.token("front-1", 100000)
	// The simulator holds the submit until the proxy stops waiting, then makes the instruction.
	require.NoError(t, h.sim.SetLatency(sim.RouteSubmit, time.Hour))
	res, b, key := h.submit(tok, "1850010868", 403, "")
	problemOf(t, res, b, 504, "upstream-timeout")
	// Payroc goes on and makes the instruction after the proxy stopped waiting.
	require.Eventually(t, func() bool { return h.sim.InstructionsFor(key) == 1 }, 5*time.Second, 5*time.Millisecond, "the instruction to be made")
	_ = h.sim.SetLatency(sim.RouteSubmit, 0)
	require.NoError(t, h.sim.FailNext(1, 429, sim.FailOptions{Route: sim.RouteSubmit}))
	res, b, _ = h.submit(tok, "1850010868", 403, key)
	problemOf(t, res, b, 429, "rate-limited")

	before := h.sim.Stats().Requests[sim.RouteSubmit]
	res, b, other := h.submit(tok, "1850010868", 1000, "")
	problemOf(t, res, b, 409, "device-busy")
	n := h.sim.Stats().Requests[sim.RouteSubmit]
	require.Equal(t, before, n, "a second key reached the busy device (%d submits upstream)", n-before)
	require.EqualValues(t, 0, h.sim.InstructionsFor(other), "a second key reached the busy device (%d submits upstream)", n-before)
	// The same key still passes, and Payroc answers with the one instruction.
	inst, _ := h.mustSubmit(tok, "1850010868", 403, key)
	require.EqualValues(t, 1, h.sim.InstructionsFor(key), "replay: %+v, instructions %d", inst, h.sim.InstructionsFor(key))
	require.Equal(t, payroc.StatusInProgress, inst.Status, "replay: %+v, instructions %d", inst, h.sim.InstructionsFor(key))
	_ = h.sim.Finish(inst.RefundInstructionID, payroc.StatusCanceled)
}

// lostAnswerTimeout is the proxy's call timeout in the tests of a submit whose answer never comes (the
// simulator holds it until the proxy gives up): generous, as every other upstream call of those tests must
// finish within it on however busy a machine.
const lostAnswerTimeout = 2 * time.Second

// Two submits with one key at once: one is refused upstream while the other is still on its way. The refusal
// must not free the device under the submit that goes on to make the instruction.
func TestProxyBusyGuardKeptWhileAConcurrentReplayIsInFlight(t *testing.T) {
	h := newHarness(t)
	tok := h.token("front-1", 100000)
	key := payroc.NewIdempotencyKey()
	// The first submit is held on its way to the simulator until the replay has been refused.
	arrived, gate := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before the harness stops, whatever failed
	var gated atomic.Bool
	h.rec.setGate(func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/refund-instructions") && gated.CompareAndSwap(false, true) {
			close(arrived)
			<-gate
		}
	})
	req, _ := http.NewRequest("POST", h.url+"/v1/devices/1850010868/refund-instructions", bytes.NewReader(refundBody("1850010868", 403)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	first := make(chan int, 1)
	go func() { // not h.submit: t.Fatal belongs to the test's own goroutine
		res, err := h.client.Do(req)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	select {
	case <-arrived:
	case <-time.After(time.Minute):
		t.Fatal("the first submit never went upstream")
	}
	// The replay overtakes it and Payroc refuses it: the key is being processed.
	require.NoError(t, h.sim.FailNext(1, 409, sim.FailOptions{Route: sim.RouteSubmit, Code: payroc.CodeIdempotencyKeyInUse}))
	res, b, _ := h.submit(tok, "1850010868", 403, key)
	problemOf(t, res, b, 409, "idempotency-key-in-use")
	release()
	status := <-first
	require.Equal(t, http.StatusAccepted, status, "first submit: %d", status)
	before := h.sim.Stats().Requests[sim.RouteSubmit]
	res, b, _ = h.submit(tok, "1850010868", 1000, "")
	problemOf(t, res, b, 409, "device-busy")
	n := h.sim.Stats().Requests[sim.RouteSubmit]
	require.Equal(t, before, n, "a second key reached the busy device")
	n = h.sim.Stats().InProgress
	require.EqualValues(t, 1, n, "%d instructions in progress", n)
}

// The Idempotency-Key is read once, where it enters, in canonical form (lower case, as google/uuid writes
// it): the upper-case spelling of a refund in flight, from the lane that made it, is that refund's replay.
// It passes the device guard, gets the same instruction, and the audit files it under one spelling.
func TestProxyKeyIsCanonicalWhereItEnters(t *testing.T) {
	h := newHarness(t)
	tok := h.token("front-1", 100000)
	inst, key := h.mustSubmit(tok, "1850010868", 403, "")
	replay, _ := h.mustSubmit(tok, "1850010868", 403, strings.ToUpper(key))
	require.Equal(t, inst.RefundInstructionID, replay.RefundInstructionID, "the upper-case key replays the same instruction")
	require.EqualValues(t, 1, h.sim.InstructionsFor(key), "one instruction for the key")
	require.NotContains(t, h.logs.String(), strings.ToUpper(key), "the audit writes the key in one spelling")
	require.Contains(t, h.logs.String(), `"idempotencyKey":"`+key+`"`)
	_ = h.sim.Finish(inst.RefundInstructionID, payroc.StatusCanceled)
}

// After a restart the proxy knows no instruction: GET is a 404 until the page replays its submit with the same
// key, which gives back the original instruction (no second one) and the lane's access to it and its refund.
func TestProxyReplayedSubmitWorksAfterRestart(t *testing.T) {
	h := newHarness(t)
	tok := h.token("front-1", 100000)
	inst, key := h.mustSubmit(tok, "1850010868", 403, "")
	h.restart()

	res, b := h.do("GET", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, nil)
	problemOf(t, res, b, 404, "not-found")
	again, _ := h.mustSubmit(tok, "1850010868", 403, key)
	require.Equal(t, inst.RefundInstructionID, again.RefundInstructionID, "replay gave %s; instructions for the key %d", again.RefundInstructionID, h.sim.InstructionsFor(key))
	require.EqualValues(t, 1, h.sim.InstructionsFor(key), "replay gave %s; instructions for the key %d", again.RefundInstructionID, h.sim.InstructionsFor(key))
	// The replay holds the device again.
	res, b, _ = h.submit(tok, "1850010868", 1000, "")
	problemOf(t, res, b, 409, "device-busy")
	// Another lane still cannot read it.
	res, b = h.do("GET", "/v1/refund-instructions/"+inst.RefundInstructionID, h.token("front-2", 100000), nil, nil)
	problemOf(t, res, b, 404, "not-found")

	require.NoError(t, h.sim.Finish(inst.RefundInstructionID, payroc.StatusCompleted))
	final := h.waitFinal(tok, inst.RefundInstructionID)
	res, b = h.do("GET", "/v1/refunds/"+payroc.RefundIDFromLink(final.Link), tok, nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "refund after restart: %d %s", res.StatusCode, b)
	h.mustSubmit(tok, "1850010868", 1000, "") // the final status freed the device
}

// The guard is released once the instruction is known to be over however it ended, and by a 4xx refusal of
// a first attempt; never by a replay's refusal (above).
func TestProxyBusyGuardReleasedByARefusedFirstAttempt(t *testing.T) {
	h := newHarness(t)
	tok := h.token("front-1", 100000)
	require.NoError(t, h.sim.FailNext(1, 429, sim.FailOptions{Route: sim.RouteSubmit}))
	res, b, _ := h.submit(tok, "1850010868", 403, "")
	problemOf(t, res, b, 429, "rate-limited")
	inst, _ := h.mustSubmit(tok, "1850010868", 403, "")
	_ = h.sim.Finish(inst.RefundInstructionID, payroc.StatusCanceled)
}
