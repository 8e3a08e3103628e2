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

// TestFinishedInstructionsExpire: after Retention a finished instruction, its refund and its key are
// forgotten; an instruction still in progress is kept. The hours pass on a synctest bubble's clock.
func TestFinishedInstructionsExpire(t *testing.T) {
	synctest.Test(t, finishedInstructionsExpire)
}

func finishedInstructionsExpire(t *testing.T) {
	e := startInBubble(t, sim.Config{Delay: 3 * time.Hour, Hold: 10 * time.Millisecond, Timeout: 3 * time.Hour, Retention: time.Hour,
		TokenTTL: 24 * time.Hour})
	tok := e.token(t)
	const path = "/v1/devices/1850010868/refund-instructions"
	key := payroc.NewIdempotencyKey()
	_, b := e.do(t, "POST", path, submitHeaders(tok, key), body(4999))
	done := instructionOf(t, b)
	_, b = e.do(t, "POST", path, submitHeaders(tok, payroc.NewIdempotencyKey()), body(4903))
	running := instructionOf(t, b)
	require.NoError(t, e.sim.Finish(done.RefundInstructionID, payroc.StatusCompleted))
	_, b = e.do(t, "GET", "/v1/refund-instructions/"+done.RefundInstructionID, bearer(tok), "")
	refundID := payroc.RefundIDFromLink(instructionOf(t, b).Link)

	status := func(p string) int {
		res, _ := e.do(t, "GET", p, bearer(tok), "")
		return res.StatusCode
	}
	time.Sleep(59 * time.Minute)
	require.Equal(t, 200, status("/v1/refund-instructions/"+done.RefundInstructionID), "the instruction before Retention")
	require.Equal(t, 200, status("/v1/refunds/"+refundID), "the refund before Retention")
	time.Sleep(2 * time.Minute)
	assert.Equal(t, 404, status("/v1/refund-instructions/"+done.RefundInstructionID), "the instruction after Retention")
	assert.Equal(t, 404, status("/v1/refunds/"+refundID), "the refund after Retention")
	assert.Equal(t, 200, status("/v1/refund-instructions/"+running.RefundInstructionID), "the instruction in progress")
	st := e.sim.Stats()
	assert.Equal(t, 1, st.Stored, "instructions stored")
	assert.Zero(t, st.InstructionsByKey[key], "instructions for the forgotten key")
	// The key is free again: the same submit makes a new instruction.
	_, b = e.do(t, "POST", path, submitHeaders(tok, key), body(4999))
	assert.NotEqual(t, done.RefundInstructionID, instructionOf(t, b).RefundInstructionID, "a forgotten key replayed")
}

// TestMaxInstructionsBoundsMemory: beyond the cap the oldest finished instruction goes; when all are in
// progress a submit is a 503.
func TestMaxInstructionsBoundsMemory(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: 10 * time.Millisecond, Timeout: time.Hour, MaxInstructions: 2})
	tok := e.token(t)
	submit := func() (int, payroc.RefundInstruction) {
		t.Helper()
		res, b := e.do(t, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, payroc.NewIdempotencyKey()), body(4999))
		if res.StatusCode != 202 {
			return res.StatusCode, payroc.RefundInstruction{}
		}
		return res.StatusCode, instructionOf(t, b)
	}
	_, a := submit()
	_, b := submit()
	require.NoError(t, e.sim.Finish(a.RefundInstructionID, payroc.StatusFailure))
	s, _ := submit()
	require.Equal(t, 202, s, "the third submit")
	res, _ := e.do(t, "GET", "/v1/refund-instructions/"+a.RefundInstructionID, bearer(tok), "")
	assert.Equal(t, 404, res.StatusCode, "the oldest finished instruction")
	res, _ = e.do(t, "GET", "/v1/refund-instructions/"+b.RefundInstructionID, bearer(tok), "")
	assert.Equal(t, 200, res.StatusCode, "the instruction in progress")
	s, _ = submit()
	assert.Equal(t, 503, s, "a submit with every slot in progress")
	assert.Equal(t, 2, e.sim.Stats().Stored, "instructions stored")
}
