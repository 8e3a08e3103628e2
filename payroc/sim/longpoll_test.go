package sim_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// slow holds long-polls for a minute and never finishes on its own: any answer within the test's deadline
// proves the hold was released by the event under test, not by its end.
var slow = sim.Config{Delay: time.Hour, Hold: time.Minute, Timeout: time.Hour}

// heldPoll starts a client long-poll on id and waits until the simulator holds it.
func heldPoll(t *testing.T, e *env, ctx context.Context, id string) <-chan pollResult {
	t.Helper()
	out := make(chan pollResult, 1)
	go func() {
		ri, err := e.client.Instruction(ctx, id)
		out <- pollResult{ri, err}
	}()
	eventually(t, "the poll to be held", func() bool { return e.sim.Stats().HeldPolls == 1 })
	return out
}

type pollResult struct {
	ri  *payroc.RefundInstruction
	err error
}

func wait(t *testing.T, c <-chan pollResult) pollResult {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(10 * time.Second): // far below the one-minute hold
		t.Fatal("the held poll did not answer")
		return pollResult{}
	}
}

func TestLongPollAnswersTheMomentTheStatusChanges(t *testing.T) {
	for _, st := range []payroc.Status{payroc.StatusCompleted, payroc.StatusFailure, payroc.StatusCanceled} {
		t.Run(string(st), func(t *testing.T) {
			e := start(t, slow)
			ri, err := e.client.Submit(t.Context(), "1850010868", request(4999), "")
			if err != nil {
				t.Fatal(err)
			}
			c := heldPoll(t, e, t.Context(), ri.RefundInstructionID)
			if err := e.sim.Finish(ri.RefundInstructionID, st); err != nil {
				t.Fatal(err)
			}
			r := wait(t, c)
			if r.err != nil || r.ri.Status != st {
				t.Fatalf("got %+v, %v", r.ri, r.err)
			}
			if st == payroc.StatusCompleted && r.ri.RefundID == "" {
				t.Error("no refund id")
			}
		})
	}
	t.Run("a cancel through the API", func(t *testing.T) {
		e := start(t, slow)
		ri, _ := e.client.Submit(t.Context(), "1850010868", request(4903), "")
		c := heldPoll(t, e, t.Context(), ri.RefundInstructionID)
		if got, err := e.client.Cancel(t.Context(), ri.RefundInstructionID); err != nil || got.Status != payroc.StatusCanceled {
			t.Fatalf("cancel %+v %v", got, err)
		}
		if r := wait(t, c); r.err != nil || r.ri.Status != payroc.StatusCanceled {
			t.Fatalf("got %+v, %v", r.ri, r.err)
		}
	})
	t.Run("many polls on one instruction", func(t *testing.T) {
		e := start(t, slow)
		ri, _ := e.client.Submit(t.Context(), "1850010868", request(4999), "")
		var cs []<-chan pollResult
		for i := range 5 {
			c := make(chan pollResult, 1)
			go func() {
				ri, err := e.client.Instruction(t.Context(), ri.RefundInstructionID)
				c <- pollResult{ri, err}
			}()
			cs = append(cs, c)
			eventually(t, "polls held", func() bool { return e.sim.Stats().HeldPolls == i+1 })
		}
		_ = e.sim.Finish(ri.RefundInstructionID, payroc.StatusCompleted)
		for _, c := range cs {
			if r := wait(t, c); r.err != nil || r.ri.Status != payroc.StatusCompleted {
				t.Fatalf("got %+v, %v", r.ri, r.err)
			}
		}
	})
}

// TestLongPollReleasedWhenTheClientLeaves: a client that goes away frees its hold at once, and nothing
// is left running once the simulator and its server are closed.
func TestLongPollReleasedWhenTheClientLeaves(t *testing.T) {
	e := start(t, slow)
	ri, err := e.client.Submit(t.Context(), "1850010868", request(4903), "")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		c := heldPoll(t, e, ctx, ri.RefundInstructionID)
		cancel()
		if r := wait(t, c); !errors.Is(r.err, context.Canceled) {
			t.Fatalf("got %+v, %v", r.ri, r.err)
		}
		eventually(t, "the hold to be released", func() bool { return e.sim.Stats().HeldPolls == 0 })
	}
	// A raw GET with a body the handler must drain first behaves the same.
	tok := e.token(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		h := bearer(tok)
		h["Content-Type"] = "application/json"
		_, _, err := e.try(ctx, "GET", "/v1/refund-instructions/"+ri.RefundInstructionID, h, "{}")
		errc <- err
	}()
	eventually(t, "the raw poll to be held", func() bool { return e.sim.Stats().HeldPolls == 1 })
	cancel()
	<-errc
	eventually(t, "the raw hold to be released", func() bool { return e.sim.Stats().HeldPolls == 0 })

	if st := e.sim.Stats(); st.InProgress != 1 {
		t.Errorf("the instruction should still be in progress: %+v", st)
	}
	e.close()
	goleak.VerifyNone(t)
}

// TestCloseReleasesHeldPolls: Close answers every held long-poll with the status as it stands.
func TestCloseReleasesHeldPolls(t *testing.T) {
	e := start(t, slow)
	ri, _ := e.client.Submit(t.Context(), "1850010868", request(4903), "")
	c := heldPoll(t, e, t.Context(), ri.RefundInstructionID)
	e.sim.Close()
	if r := wait(t, c); r.err != nil || r.ri.Status != payroc.StatusInProgress {
		t.Fatalf("got %+v, %v", r.ri, r.err)
	}
	_, err := e.client.Submit(t.Context(), "1850010868", request(4999), "")
	var pe *payroc.Error
	if !errors.As(err, &pe) || pe.Status != 503 {
		t.Fatalf("submit after Close: %v", err)
	}
	e.close()
	goleak.VerifyNone(t)
}

// TestClosedSimulatorAnswers503: after Close every refund endpoint is a 503, as documented. A GET of an
// instruction still inProgress must not answer 200 at once (unheld), which would spin a long-polling client,
// and a DELETE must not claim the instruction cannot be canceled.
func TestClosedSimulatorAnswers503(t *testing.T) {
	e := start(t, slow)
	tok := e.token(t)
	ri, err := e.client.Submit(t.Context(), "1850010868", request(4903), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Finish(mustSubmit(t, e, 4999).RefundInstructionID, payroc.StatusCompleted); err != nil {
		t.Fatal(err)
	}
	e.sim.Close()
	for _, c := range []struct{ name, method, path string }{
		{"get in progress", "GET", "/v1/refund-instructions/" + ri.RefundInstructionID},
		{"cancel in progress", "DELETE", "/v1/refund-instructions/" + ri.RefundInstructionID},
		{"get refund", "GET", "/v1/refunds/CD3HN88U9F"},
		{"submit", "POST", "/v1/devices/1850010868/refund-instructions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, b := bearer(tok), ""
			if c.method == "POST" {
				h, b = submitHeaders(tok, payroc.NewIdempotencyKey()), body(4999)
			}
			res, got := e.do(t, c.method, c.path, h, b)
			if res.StatusCode != 503 || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s, want a 503 problem", res.StatusCode, got)
			}
		})
	}
	// The client sees a retryable error, not a status to act on.
	_, err = e.client.Cancel(t.Context(), ri.RefundInstructionID)
	var pe *payroc.Error
	if !errors.As(err, &pe) || pe.Status != 503 || !pe.Retryable() {
		t.Fatalf("cancel after Close: %v", err)
	}
}

func mustSubmit(t *testing.T, e *env, amount int64) *payroc.RefundInstruction {
	t.Helper()
	ri, err := e.client.Submit(t.Context(), "1850010868", request(amount), "")
	if err != nil {
		t.Fatal(err)
	}
	return ri
}

// TestSlowOutcomeNeedsASecondPoll: amount 04 never completes inside a poll's first hold, however late
// that poll starts.
func TestSlowOutcomeNeedsASecondPoll(t *testing.T) {
	e := start(t, sim.Config{Delay: 5 * time.Millisecond, Hold: 100 * time.Millisecond, Timeout: time.Hour})
	tok := e.token(t)
	ri, err := e.client.Submit(t.Context(), "1850010868", request(4904), "")
	if err != nil {
		t.Fatal(err)
	}
	path := "/v1/refund-instructions/" + ri.RefundInstructionID
	// The added latency makes the first poll's hold start at 60ms, so the completion due at Hold+Delay
	// (105ms) falls inside it: it is still answered unchanged when its hold ends.
	_ = e.sim.SetLatency(sim.RouteGetInstruction, 60*time.Millisecond)
	_, b := e.do(t, "GET", path, bearer(tok), "")
	if got := instructionOf(t, b); got.Status != payroc.StatusInProgress {
		t.Fatalf("first poll: %s", b)
	}
	_, b = e.do(t, "GET", path, bearer(tok), "")
	if got := instructionOf(t, b); got.Status != payroc.StatusCompleted {
		t.Fatalf("second poll: %s", b)
	}
}

// TestSlowOutcomeCompletesWithoutPolls: nobody polls, and 04 still completes after Hold+Delay.
func TestSlowOutcomeCompletesWithoutPolls(t *testing.T) {
	e := start(t, sim.Config{Delay: 5 * time.Millisecond, Hold: 20 * time.Millisecond, Timeout: time.Hour})
	ri, err := e.client.Submit(t.Context(), "1850010868", request(4904), "")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "completion", func() bool { return e.sim.RefundsFor(ri.IdempotencyKey) == 1 })
}

// TestLongPollOutlivesAShortWriteTimeout: a server whose WriteTimeout is shorter than the hold still
// delivers the held answer.
func TestLongPollOutlivesAShortWriteTimeout(t *testing.T) {
	s := sim.New(sim.Config{Delay: time.Hour, Hold: 150 * time.Millisecond, Timeout: time.Hour})
	defer s.Close()
	srv := httptest.NewUnstartedServer(s)
	srv.Config.WriteTimeout = 30 * time.Millisecond
	srv.Start()
	defer srv.Close()
	doer := payroc.HTTPDoer{Client: srv.Client()}
	c := &payroc.Client{BaseURL: srv.URL + "/v1", Doer: doer, Retry: payroc.RetryPolicy{MaxAttempts: 1},
		Tokens: &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: s.APIKey(), Doer: doer}).Mint}}
	ri, err := c.Submit(t.Context(), "1850010868", request(4903), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Instruction(t.Context(), ri.RefundInstructionID)
	if err != nil || got.Status != payroc.StatusInProgress {
		t.Fatalf("got %+v, %v", got, err)
	}
}
