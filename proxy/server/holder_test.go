package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
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
