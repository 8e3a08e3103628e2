package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/clocktest"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// A refund that ended while nobody read its status (an integration that never polls, a page closed right
// after the card) must not keep the reader busy: the next submit on the device makes the proxy read the
// holder's status once, record its outcome, free the device and let the new refund through. A holder still
// in progress keeps the device.
func TestFinishedHolderFreesTheDevice(t *testing.T) {
	backends(t, func(t *testing.T, state option) {
		h := newHarness(t, state)
		front1, front2 := h.token("front-1", 50000), h.token("front-2", 50000)
		held, _ := h.mustSubmit(front1, "1850010868", 1003, "") // no card is presented: stays in progress

		res, body, _ := h.submit(front2, "1850010868", 1000, "")
		problemOf(t, res, body, http.StatusConflict, "device-busy")
		assert.Zero(t, h.finals(held.RefundInstructionID), "an outcome audited before it came")

		require.NoError(t, h.sim.Finish(held.RefundInstructionID, payroc.StatusCompleted)) // nobody reads it
		res, body, _ = h.submit(front2, "1850010868", 1003, "")
		require.Equal(t, http.StatusAccepted, res.StatusCode, "the ended refund still holds the device: %s", body)
		assert.Equal(t, 1, h.finals(held.RefundInstructionID), "the holder's outcome is audited once")
		next := decodeInstruction(t, body)

		res, body, _ = h.submit(front1, "1850010868", 1000, "")
		problemOf(t, res, body, http.StatusConflict, "device-busy") // the new refund, in progress, holds it
		require.NoError(t, h.sim.Finish(next.RefundInstructionID, payroc.StatusCanceled))
	})
}

// A submit that meets a busy device, frees its finished holder and is let through is one request: it takes
// one request from its token's rate, not one for each try at the device.
func TestFreedHolderSubmitCostsOneRequest(t *testing.T) {
	backends(t, func(t *testing.T, state option) {
		// Rate 1, burst 3, on a clock that does not move: no refill while the test runs, however slow the machine.
		clock := clocktest.New()
		h := newHarness(t, state, func(_ *sim.Config, c *server.Config) { c.Rate = 1; c.Now = clock.Now })
		front1, front2 := h.token("front-1", 50000), h.token("front-2", 50000)
		// No card is presented: the refund stays in progress until it ends unseen.
		held, _ := h.mustSubmit(front1, "1850010868", 1003, "")
		require.NoError(t, h.sim.Finish(held.RefundInstructionID, payroc.StatusCompleted))

		res, body, _ := h.submit(front2, "1850010868", 1003, "")
		require.Equal(t, http.StatusAccepted, res.StatusCode, "the ended refund still holds the device: %s", body)
		next := decodeInstruction(t, body)
		for i := range 2 { // the rest of the burst
			res, body = h.do("GET", "/v1/refunds/ABCDEFGHIJ", front2, nil, nil)
			require.Equal(t, http.StatusNotFound, res.StatusCode, "the token's request %d of its burst of 3: %s", i+2, body)
		}
		res, body = h.do("GET", "/v1/refunds/ABCDEFGHIJ", front2, nil, nil)
		problemOf(t, res, body, http.StatusTooManyRequests, "rate-limited")
		require.NoError(t, h.sim.Finish(next.RefundInstructionID, payroc.StatusCanceled))
	})
}

// The holder's status GET counts against the asking lane's cap on open long-polls: a lane at its cap gets
// device-busy without a GET upstream, so device-busy submits cannot hold more upstream requests open than the
// lane's own watches may.
func TestHolderCheckCountsAgainstThePollCap(t *testing.T) {
	h := newHarness(t, func(s *sim.Config, c *server.Config) {
		s.Hold = time.Hour // a status GET of a refund in progress stays open until the test finishes it
		c.MaxPollsPerLane = 1
	})
	front1, front2 := h.token("front-1", 50000), h.token("front-2", 50000)
	h.mustSubmit(front1, "1850010868", 1003, "") // holds 1850010868
	own, _ := h.mustSubmit(front2, "1850010869", 1003, "")
	polled := make(chan int, 1)
	go func() {
		res, _ := h.do("GET", "/v1/refund-instructions/"+own.RefundInstructionID, front2, nil, nil)
		polled <- res.StatusCode
	}()
	require.Eventually(t, func() bool { return h.sim.Stats().HeldPolls == 1 }, 30*time.Second, 10*time.Millisecond,
		"front-2's watch is open, at its lane's cap")
	before := h.sim.Stats().Requests[sim.RouteGetInstruction]

	res, body, _ := h.submit(front2, "1850010868", 1000, "")
	problemOf(t, res, body, http.StatusConflict, "device-busy")
	assert.Equal(t, before, h.sim.Stats().Requests[sim.RouteGetInstruction], "the holder was read past the lane's poll cap")

	require.NoError(t, h.sim.Finish(own.RefundInstructionID, payroc.StatusCanceled))
	assert.Equal(t, http.StatusOK, <-polled)
}
