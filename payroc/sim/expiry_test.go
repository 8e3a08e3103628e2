package sim_test

import (
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// TestFinishedInstructionsExpire: after Retention a finished instruction, its refund and its key are
// forgotten; an instruction still in progress is kept.
func TestFinishedInstructionsExpire(t *testing.T) {
	clk := newClock()
	e := start(t, sim.Config{Delay: time.Hour, Hold: 10 * time.Millisecond, Timeout: time.Hour, Retention: time.Hour, Now: clk.Now,
		TokenTTL: 24 * time.Hour})
	tok := e.token(t)
	const path = "/v1/devices/1850010868/refund-instructions"
	key := payroc.NewIdempotencyKey()
	_, b := e.do(t, "POST", path, submitHeaders(tok, key), body(4999))
	done := instructionOf(t, b)
	_, b = e.do(t, "POST", path, submitHeaders(tok, payroc.NewIdempotencyKey()), body(4903))
	running := instructionOf(t, b)
	_ = e.sim.Finish(done.RefundInstructionID, payroc.StatusCompleted)
	_, b = e.do(t, "GET", "/v1/refund-instructions/"+done.RefundInstructionID, bearer(tok), "")
	refundID := payroc.RefundIDFromLink(instructionOf(t, b).Link)

	status := func(p string) int {
		res, _ := e.do(t, "GET", p, bearer(tok), "")
		return res.StatusCode
	}
	clk.Add(59 * time.Minute)
	if status("/v1/refund-instructions/"+done.RefundInstructionID) != 200 || status("/v1/refunds/"+refundID) != 200 {
		t.Fatal("forgotten before Retention")
	}
	clk.Add(2 * time.Minute)
	if s := status("/v1/refund-instructions/" + done.RefundInstructionID); s != 404 {
		t.Errorf("instruction after Retention: %d", s)
	}
	if s := status("/v1/refunds/" + refundID); s != 404 {
		t.Errorf("refund after Retention: %d", s)
	}
	if s := status("/v1/refund-instructions/" + running.RefundInstructionID); s != 200 {
		t.Errorf("in-progress instruction: %d", s)
	}
	st := e.sim.Stats()
	if st.Stored != 1 || st.InstructionsByKey[key] != 0 {
		t.Errorf("stats %+v", st)
	}
	// The key is free again: the same submit makes a new instruction.
	_, b = e.do(t, "POST", path, submitHeaders(tok, key), body(4999))
	if again := instructionOf(t, b); again.RefundInstructionID == done.RefundInstructionID {
		t.Error("a forgotten key replayed")
	}
}

// TestMaxInstructionsBoundsMemory: beyond the cap the oldest finished instruction goes; when all are in
// progress a submit is a 503.
func TestMaxInstructionsBoundsMemory(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: 10 * time.Millisecond, Timeout: time.Hour, MaxInstructions: 2})
	tok := e.token(t)
	submit := func() (int, payroc.RefundInstruction) {
		res, b := e.do(t, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, payroc.NewIdempotencyKey()), body(4999))
		if res.StatusCode != 202 {
			return res.StatusCode, payroc.RefundInstruction{}
		}
		return res.StatusCode, instructionOf(t, b)
	}
	_, a := submit()
	_, b := submit()
	_ = e.sim.Finish(a.RefundInstructionID, payroc.StatusFailure)
	if s, _ := submit(); s != 202 {
		t.Fatalf("third submit %d", s)
	}
	if res, _ := e.do(t, "GET", "/v1/refund-instructions/"+a.RefundInstructionID, bearer(tok), ""); res.StatusCode != 404 {
		t.Errorf("oldest finished kept: %d", res.StatusCode)
	}
	if res, _ := e.do(t, "GET", "/v1/refund-instructions/"+b.RefundInstructionID, bearer(tok), ""); res.StatusCode != 200 {
		t.Errorf("in-progress one lost: %d", res.StatusCode)
	}
	s, _ := submit()
	if s != 503 {
		t.Errorf("submit with every slot in progress: %d", s)
	}
	if st := e.sim.Stats(); st.Stored != 2 {
		t.Errorf("stored %d", st.Stored)
	}
}
