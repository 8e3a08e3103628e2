package sim_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// HoldNext keeps the next instructions on its device in progress, whatever their amount says, past any Delay
// and Timeout, until the test ends them: Finish, a DELETE (which outcome 5 still loses), or Close. Other
// devices and later instructions run as usual. It runs in a synctest bubble, so "an hour later" is exact.
func TestHoldNextKeepsAnInstructionInProgressUntilTheTestEndsIt(t *testing.T) {
	synctest.Test(t, holdNextKeepsAnInstructionInProgress)
}

func holdNextKeepsAnInstructionInProgress(t *testing.T) {
	e := startInBubble(t, sim.Config{Delay: time.Millisecond, Hold: time.Second, Timeout: time.Minute, TokenTTL: 2 * time.Hour})
	tok := e.token(t)
	submit := func(device string, amount int) string {
		terminal := map[string]string{"1850010868": "1234001", "1850010869": "1234002"}[device]
		b := `{"processingTerminalId":"` + terminal + `","order":{"orderId":"ORDER-1001","description":"Refund","amount":` +
			itoa(amount) + `,"currency":"USD"}}`
		res, out := e.do(t, "POST", "/v1/devices/"+device+"/refund-instructions", submitHeaders(tok, payroc.NewIdempotencyKey()), b)
		require.Equal(t, 202, res.StatusCode, "submit: %s", out)
		return instructionOf(t, out).RefundInstructionID
	}
	status := func(id string) payroc.Status {
		res, out := e.do(t, "GET", "/v1/refund-instructions/"+id, bearer(tok), "")
		require.Equal(t, 200, res.StatusCode, "status: %s", out)
		return instructionOf(t, out).Status
	}

	require.NoError(t, e.sim.HoldNext(3, "1850010868"))
	assert.Equal(t, 3, e.sim.Stats().PendingHolds)
	other := submit("1850010869", 1000) // another device: not held
	approved := submit("1850010868", 1000)
	declined := submit("1850010868", 1001)
	cancelLoses := submit("1850010868", 1005)
	after := submit("1850010868", 1000) // the holds are used up
	assert.Equal(t, 0, e.sim.Stats().PendingHolds)

	time.Sleep(time.Hour) // far past Delay, Timeout and every hold
	synctest.Wait()
	for name, id := range map[string]string{"approved": approved, "declined": declined, "cancel loses": cancelLoses} {
		assert.Equal(t, payroc.StatusInProgress, status(id), "%s: a held instruction ended by itself", name)
	}
	assert.Equal(t, payroc.StatusCompleted, status(other), "another device's instruction is not held")
	assert.Equal(t, payroc.StatusCompleted, status(after), "an instruction after the holds ran out is not held")
	assert.Equal(t, 3, e.sim.Stats().InProgress)

	require.NoError(t, e.sim.Finish(declined, payroc.StatusCompleted))
	assert.Equal(t, payroc.StatusCompleted, status(declined), "Finish ends a held instruction")
	res, out := e.do(t, "DELETE", "/v1/refund-instructions/"+approved, bearer(tok), "")
	assert.Equal(t, 204, res.StatusCode, "a DELETE cancels a held instruction: %s", out)
	res, out = e.do(t, "DELETE", "/v1/refund-instructions/"+cancelLoses, bearer(tok), "")
	assert.Equal(t, 409, res.StatusCode, "outcome 5 still loses the cancel when held: %s", out)
	assert.Equal(t, payroc.StatusCompleted, status(cancelLoses))
}

// A held "approved after more than one hold" instruction (outcome 4) stays in progress through any number of
// long-poll holds.
func TestHoldNextKeepsTheSlowOutcomeThroughEveryHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startInBubble(t, sim.Config{Delay: time.Millisecond, Hold: time.Second, Timeout: time.Minute})
		require.NoError(t, e.sim.HoldNext(1, ""))
		ri := mustSubmit(t, e, 1004)
		for range 5 {
			got, err := e.client.Instruction(t.Context(), ri.RefundInstructionID)
			require.NoError(t, err)
			require.Equal(t, payroc.StatusInProgress, got.Status, "a held outcome 4 finished after a hold ran out")
		}
		require.NoError(t, e.sim.Finish(ri.RefundInstructionID, payroc.StatusCompleted))
	})
}

// The hold control over HTTP, and what it refuses without changing anything.
func TestHoldControl(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: 10 * time.Millisecond, Timeout: time.Hour})
	e.control(t, "hold", `{"count":2,"device":"1850010869"}`, 204)
	e.control(t, "hold", `{}`, 204) // one, any device
	assert.Equal(t, 3, e.stats(t, "").PendingHolds)
	for _, bad := range []string{`{"device":"1850099999"}`, `{"count":-1}`, `{"count":"2"}`, `{"devices":"1850010868"}`} {
		e.control(t, "hold", bad, 400)
	}
	assert.Equal(t, 3, e.stats(t, "").PendingHolds, "bad input changed the holds")
	for name, err := range map[string]error{
		"n 0":            e.sim.HoldNext(0, ""),
		"unknown device": e.sim.HoldNext(1, "1850099999"),
	} {
		require.ErrorIs(t, err, sim.ErrBadControl, name)
	}
	e.control(t, "reset", "", 204)
	assert.Zero(t, e.stats(t, "").PendingHolds, "reset clears the holds")
}
