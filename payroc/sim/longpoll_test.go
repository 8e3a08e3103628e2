package sim_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// slow holds long-polls for a minute and never finishes on its own: any answer before that proves the hold
// was released by the event under test, not by its end.
var slow = sim.Config{Delay: time.Hour, Hold: time.Minute, Timeout: time.Hour}

// heldPoll starts a client long-poll on id and waits until the simulator holds it. In a synctest bubble
// (startInBubble) the wait is exact: synctest.Wait returns once the poll is blocked in its hold.
func heldPoll(t *testing.T, e *env, ctx context.Context, id string) <-chan pollResult {
	t.Helper()
	out := make(chan pollResult, 1)
	held := e.sim.Stats().HeldPolls
	go func() {
		ri, err := e.client.Instruction(ctx, id)
		out <- pollResult{ri, err}
	}()
	synctest.Wait()
	require.Equal(t, held+1, e.sim.Stats().HeldPolls, "polls held")
	return out
}

type pollResult struct {
	ri  *payroc.RefundInstruction
	err error
}

// answered returns the poll's answer, which must already be there: in a bubble, synctest.Wait has let every
// goroutine run as far as it can without the clock moving.
func answered(t *testing.T, c <-chan pollResult) pollResult {
	t.Helper()
	synctest.Wait()
	select {
	case r := <-c:
		return r
	default:
		require.FailNow(t, "the held poll did not answer at once")
		return pollResult{}
	}
}

func TestLongPollAnswersTheMomentTheStatusChanges(t *testing.T) {
	for _, st := range []payroc.Status{payroc.StatusCompleted, payroc.StatusFailure, payroc.StatusCanceled} {
		t.Run(string(st), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := startInBubble(t, slow)
				ri := mustSubmit(t, e, 4999)
				c := heldPoll(t, e, t.Context(), ri.RefundInstructionID)
				require.NoError(t, e.sim.Finish(ri.RefundInstructionID, st))
				r := answered(t, c)
				require.NoError(t, r.err)
				assert.Equal(t, st, r.ri.Status)
				if st == payroc.StatusCompleted {
					assert.NotEmpty(t, r.ri.RefundID, "refund id")
				}
			})
		})
	}
	t.Run("a cancel through the API", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := startInBubble(t, slow)
			ri := mustSubmit(t, e, 4903)
			c := heldPoll(t, e, t.Context(), ri.RefundInstructionID)
			got, err := e.client.Cancel(t.Context(), ri.RefundInstructionID)
			require.NoError(t, err)
			require.Equal(t, payroc.StatusCanceled, got.Status)
			r := answered(t, c)
			require.NoError(t, r.err)
			assert.Equal(t, payroc.StatusCanceled, r.ri.Status)
		})
	})
	t.Run("many polls on one instruction", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := startInBubble(t, slow)
			ri := mustSubmit(t, e, 4999)
			var cs []<-chan pollResult
			for range 5 {
				cs = append(cs, heldPoll(t, e, t.Context(), ri.RefundInstructionID))
			}
			require.NoError(t, e.sim.Finish(ri.RefundInstructionID, payroc.StatusCompleted))
			for i, c := range cs {
				r := answered(t, c)
				require.NoError(t, r.err, "poll %d", i)
				assert.Equal(t, payroc.StatusCompleted, r.ri.Status, "poll %d", i)
			}
		})
	})
}

// TestLongPollHoldsForHoldThenAnswersUnchanged: a poll nobody releases answers the status as it stands
// exactly when its hold ends.
func TestLongPollHoldsForHoldThenAnswersUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startInBubble(t, slow)
		ri := mustSubmit(t, e, 4903)
		start := time.Now()
		c := heldPoll(t, e, t.Context(), ri.RefundInstructionID)
		time.Sleep(slow.Hold - time.Nanosecond)
		synctest.Wait()
		assert.Empty(t, c, "an answer before the hold ended")
		r := <-c
		require.NoError(t, r.err)
		assert.Equal(t, payroc.StatusInProgress, r.ri.Status)
		assert.Equal(t, slow.Hold, time.Since(start), "how long the poll was held")
	})
}

// TestLongPollReleasedWhenTheClientLeaves: a client that goes away frees its hold at once, and nothing
// is left running once the simulator and its server are closed. Over a real loopback connection.
func TestLongPollReleasedWhenTheClientLeaves(t *testing.T) {
	e := start(t, slow)
	ri := mustSubmit(t, e, 4903)
	heldPolls := func(n int) func() bool { return func() bool { return e.sim.Stats().HeldPolls == n } }
	for range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		c := make(chan error, 1)
		go func() {
			_, err := e.client.Instruction(ctx, ri.RefundInstructionID)
			c <- err
		}()
		require.Eventually(t, heldPolls(1), 5*time.Second, time.Millisecond, "the poll to be held")
		cancel()
		require.ErrorIs(t, <-c, context.Canceled)
		require.Eventually(t, heldPolls(0), 5*time.Second, time.Millisecond, "the hold to be released")
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
	require.Eventually(t, heldPolls(1), 5*time.Second, time.Millisecond, "the raw poll to be held")
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	require.Eventually(t, heldPolls(0), 5*time.Second, time.Millisecond, "the raw hold to be released")

	assert.Equal(t, 1, e.sim.Stats().InProgress, "instructions still in progress")
	e.close()
	goleak.VerifyNone(t)
}

// TestCloseReleasesHeldPolls: Close answers every held long-poll with the status as it stands.
func TestCloseReleasesHeldPolls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startInBubble(t, slow)
		ri := mustSubmit(t, e, 4903)
		c := heldPoll(t, e, t.Context(), ri.RefundInstructionID)
		e.sim.Close()
		r := answered(t, c)
		require.NoError(t, r.err)
		assert.Equal(t, payroc.StatusInProgress, r.ri.Status)
		_, err := e.client.Submit(t.Context(), refund(t, "1850010868", request(4999), ""))
		var pe *payroc.Error
		require.ErrorAs(t, err, &pe, "a submit after Close")
		assert.Equal(t, 503, pe.Status)
	})
}

// TestClosedSimulatorAnswers503: after Close every refund endpoint is a 503, as documented. A GET of an
// instruction still inProgress must not answer 200 at once (unheld), which would spin a long-polling client,
// and a DELETE must not claim the instruction cannot be canceled.
func TestClosedSimulatorAnswers503(t *testing.T) {
	e := start(t, slow)
	tok := e.token(t)
	ri := mustSubmit(t, e, 4903)
	require.NoError(t, e.sim.Finish(mustSubmit(t, e, 4999).RefundInstructionID, payroc.StatusCompleted))
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
			assert.Equal(t, 503, res.StatusCode, "%s", got)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		})
	}
	// The client sees a retryable error, not a status to act on.
	_, err := e.client.Cancel(t.Context(), ri.RefundInstructionID)
	var pe *payroc.Error
	require.ErrorAs(t, err, &pe, "a cancel after Close")
	assert.Equal(t, 503, pe.Status)
	assert.True(t, pe.Retryable(), "retryable")
}

func mustSubmit(t *testing.T, e *env, amount int64) *payroc.RefundInstruction {
	t.Helper()
	ri, err := e.client.Submit(t.Context(), refund(t, "1850010868", request(amount), ""))
	require.NoError(t, err)
	return ri
}

// TestSlowOutcomeNeedsASecondPoll: amount 04 never completes inside a poll's first hold, however late
// that poll starts. On the bubble's clock the timings are exact, not a race with the machine's load.
func TestSlowOutcomeNeedsASecondPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startInBubble(t, sim.Config{Delay: 5 * time.Millisecond, Hold: 100 * time.Millisecond, Timeout: time.Hour})
		tok := e.token(t)
		ri := mustSubmit(t, e, 4904)
		path := "/v1/refund-instructions/" + ri.RefundInstructionID
		// The added latency makes the first poll's hold start at 60ms, so the completion due at Hold+Delay
		// (105ms) falls inside it: it is still answered unchanged when its hold ends.
		require.NoError(t, e.sim.SetLatency(sim.RouteGetInstruction, 60*time.Millisecond))
		start := time.Now()
		_, b := e.do(t, "GET", path, bearer(tok), "")
		assert.Equal(t, payroc.StatusInProgress, instructionOf(t, b).Status, "the first poll: %s", b)
		assert.Equal(t, 160*time.Millisecond, time.Since(start), "the first poll's latency and hold")
		_, b = e.do(t, "GET", path, bearer(tok), "")
		assert.Equal(t, payroc.StatusCompleted, instructionOf(t, b).Status, "the second poll: %s", b)
	})
}

// TestSlowOutcomeCompletesWithoutPolls: nobody polls, and 04 still completes after Hold+Delay.
func TestSlowOutcomeCompletesWithoutPolls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startInBubble(t, sim.Config{Delay: 5 * time.Millisecond, Hold: 20 * time.Millisecond, Timeout: time.Hour})
		ri := mustSubmit(t, e, 4904)
		time.Sleep(25*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		assert.Zero(t, e.sim.RefundsFor(ri.IdempotencyKey), "refunds before Hold+Delay")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, 1, e.sim.RefundsFor(ri.IdempotencyKey), "refunds at Hold+Delay")
	})
}

// TestLongPollOutlivesAShortWriteTimeout: a server whose WriteTimeout is shorter than the hold still
// delivers the held answer.
func TestLongPollOutlivesAShortWriteTimeout(t *testing.T) {
	// The write timeout is long enough for the ordinary answers before the poll on a busy machine; the hold,
	// a floor, is longer still.
	s := sim.New(sim.Config{Delay: time.Hour, Hold: 1500 * time.Millisecond, Timeout: time.Hour})
	defer s.Close()
	srv := httptest.NewUnstartedServer(s)
	srv.Config.WriteTimeout = time.Second
	srv.Start()
	defer srv.Close()
	doer := payroc.HTTPDoer{Client: srv.Client()}
	c := &payroc.Client{BaseURL: srv.URL + "/v1", Doer: doer, Retry: payroc.RetryPolicy{MaxAttempts: 1},
		Tokens: &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: s.APIKey(), Doer: doer}).Mint}}
	ri, err := c.Submit(t.Context(), refund(t, "1850010868", request(4903), ""))
	require.NoError(t, err)
	got, err := c.Instruction(t.Context(), ri.RefundInstructionID)
	require.NoError(t, err)
	assert.Equal(t, payroc.StatusInProgress, got.Status)
}
