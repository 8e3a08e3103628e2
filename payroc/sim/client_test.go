package sim_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// TestOutcomesThroughTheClient runs each amount-driven outcome end to end with client.RunRefund.
func TestOutcomesThroughTheClient(t *testing.T) {
	cases := []struct {
		name     string
		amount   int64
		cancel   bool // cancel as soon as the submit is accepted
		outcome  payroc.Outcome
		code     string // refund responseCode when completed
		minPolls int    // least GETs of the instruction
		errMsg   bool   // the final instruction carries an errorMessage
	}{
		{name: "other amounts approve", amount: 4999, outcome: payroc.OutcomeApproved, code: "A"},
		{name: "00 approves", amount: 10000, outcome: payroc.OutcomeApproved, code: "A"},
		{name: "01 is declined but completed", amount: 4901, outcome: payroc.OutcomeDeclined, code: "D"},
		{name: "02 fails with an errorMessage", amount: 4902, outcome: payroc.OutcomeFailed, errMsg: true},
		{name: "03 cancels while waiting for a card", amount: 4903, cancel: true, outcome: payroc.OutcomeCanceled},
		{name: "03 fails after the timeout", amount: 4903, outcome: payroc.OutcomeFailed, errMsg: true},
		{name: "04 approves after more than one hold", amount: 4904, outcome: payroc.OutcomeApproved, code: "A", minPolls: 2},
		{name: "05 cancel loses the race", amount: 4905, cancel: true, outcome: payroc.OutcomeApproved, code: "A"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := fast
			if c.cancel {
				cfg.Timeout = time.Hour // the cancel ends it, never the timeout racing it on a busy machine
			}
			e := start(t, cfg)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			key := payroc.NewIdempotencyKey()
			var mu sync.Mutex
			var seen []payroc.Status
			var cancelRes chan *payroc.RefundInstruction
			if c.cancel {
				cancelRes = make(chan *payroc.RefundInstruction, 1)
			}
			res, err := e.client.RunRefund(ctx, refund(t, "1850010868", request(c.amount), key), payroc.RunOptions{OnStatus: func(ri *payroc.RefundInstruction) {
				mu.Lock()
				seen = append(seen, ri.Status)
				first := len(seen) == 1
				mu.Unlock()
				if first && c.cancel {
					go func() {
						got, err := e.client.Cancel(ctx, ri.RefundInstructionID)
						assert.NoError(t, err, "cancel: %v", err)
						cancelRes <- got
					}()
				}
			},
			})
			require.NoError(t, err)
			require.Equal(t, c.outcome, res.Outcome)
			mu.Lock()
			require.Len(t, seen, 2, "statuses seen %v", seen)
			require.Equal(t, payroc.StatusInProgress, seen[0], "statuses seen %v", seen)
			require.Equal(t, res.Instruction.Status, seen[1], "statuses seen %v", seen)
			mu.Unlock()
			assert.Equal(t, c.errMsg, (res.Instruction.ErrorMessage != ""), "errorMessage %q", res.Instruction.ErrorMessage)
			if c.code != "" {
				require.NotNil(t, res.Refund, "refund %+v", res.Refund)
				require.Equal(t, c.code, res.Refund.TransactionResult.ResponseCode, "refund %+v", res.Refund)
				require.Equal(t, res.Instruction.RefundID, res.Refund.RefundID, "refund %+v", res.Refund)
				if c.code == "D" {
					assert.Equal(t, "declined", res.Refund.TransactionResult.Status, "a declined refund's status")
					assert.Nil(t, res.Refund.TransactionResult.AuthorizedAmount, "a declined refund's authorized amount")
				}
			} else {
				assert.Nil(t, res.Refund, "a refund for outcome %s", res.Outcome)
			}
			if c.cancel {
				got := <-cancelRes
				switch c.amount % 100 {
				case 5: // the device finished first
					require.NotNil(t, got, "the cancel's answer")
					assert.Equal(t, payroc.StatusCompleted, got.Status)
					assert.Equal(t, res.Refund.RefundID, got.RefundID)
				case 3:
					require.NotNil(t, got, "the cancel's answer")
					assert.Equal(t, payroc.StatusCanceled, got.Status)
				}
			}
			st := e.sim.Stats()
			polls := st.Requests[sim.RouteGetInstruction]
			assert.GreaterOrEqual(t, polls, c.minPolls)
			wantRefunds := 0
			if c.code != "" {
				wantRefunds = 1
			}
			require.EqualValues(t, 1, st.InstructionsByKey[key], "per key: %d instructions, %d refunds", st.InstructionsByKey[key], st.RefundsByKey[key])
			require.Equal(t, wantRefunds, st.RefundsByKey[key], "per key: %d instructions, %d refunds", st.InstructionsByKey[key], st.RefundsByKey[key])
		})
	}
}

// TestClientSeesEveryError checks that what the simulator answers reaches the real client as the right
// *payroc.Error (or, for cannot-be-canceled, as the instruction's final state).
func TestClientSeesEveryError(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: 20 * time.Millisecond, Timeout: time.Hour})
	ctx := t.Context()
	done, err := e.client.Submit(ctx, refund(t, "1850010868", request(4999), ""))
	require.NoError(t, err)
	require.NoError(t, e.sim.Finish(done.RefundInstructionID, payroc.StatusCompleted))
	key := done.IdempotencyKey
	done, err = e.client.Instruction(ctx, done.RefundInstructionID)
	require.NoError(t, err, "%+v, %v", done, err)
	require.NotEmpty(t, done.RefundID, "%+v, %v", done, err)
	done.IdempotencyKey = key
	failed, _ := e.client.Submit(ctx, refund(t, "1850010868", request(4999), ""))
	_ = e.sim.Finish(failed.RefundInstructionID, payroc.StatusFailure)

	cases := []struct {
		name   string
		before func()
		call   func() error
		code   string
		status int
	}{
		{name: "400 terminal of another device", call: func() error {
			_, err := e.client.Submit(ctx, refund(t, "1850010869", request(4999), ""))
			return err
		}, code: payroc.CodeBadRequest, status: 400},
		{name: "404 unknown device", call: func() error {
			_, err := e.client.Submit(ctx, refund(t, "1850099999", request(4999), ""))
			return err
		}, code: payroc.CodeNotFound, status: 404},
		{name: "404 unknown instruction", call: func() error {
			_, err := e.client.Instruction(ctx, "a37439165d134678a9100ebba3b29597")
			return err
		}, code: payroc.CodeNotFound, status: 404},
		{name: "404 unknown refund", call: func() error {
			_, err := e.client.Refund(ctx, "CD3HN88U9F")
			return err
		}, code: payroc.CodeNotFound, status: 404},
		{name: "409 key in use", call: func() error {
			_, err := e.client.Submit(ctx, refund(t, "1850010868", request(5000), done.IdempotencyKey))
			return err
		}, code: payroc.CodeIdempotencyKeyInUse, status: 409},
		{name: "403 forced", before: func() { _ = e.sim.FailNext(1, 403, sim.FailOptions{}) }, call: func() error {
			_, err := e.client.Refund(ctx, done.RefundID)
			return err
		}, code: payroc.CodeForbidden, status: 403},
		{name: "406 forced", before: func() { _ = e.sim.FailNext(1, 406, sim.FailOptions{Route: sim.RouteGetInstruction}) }, call: func() error {
			_, err := e.client.Instruction(ctx, done.RefundInstructionID)
			return err
		}, code: payroc.CodeNotAcceptable, status: 406},
		{name: "500 forced past every retry", before: func() { _ = e.sim.FailNext(4, 500, sim.FailOptions{Route: sim.RouteGetRefund}) }, call: func() error {
			_, err := e.client.Refund(ctx, done.RefundID)
			return err
		}, code: payroc.CodeAPIError, status: 500},
		{name: "503 forced past every retry", before: func() { _ = e.sim.FailNext(4, 503, sim.FailOptions{}) }, call: func() error {
			_, err := e.client.Refund(ctx, done.RefundID)
			return err
		}, code: "service-unavailable", status: 503},
		{name: "401 bearer refused twice", before: func() { _ = e.sim.FailNext(2, 401, sim.FailOptions{}) }, call: func() error {
			_, err := e.client.Refund(ctx, done.RefundID)
			return err
		}, code: payroc.CodeNotAuthorized, status: 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.sim.Reset() // no fault left over from a failed case
			if c.before != nil {
				c.before()
			}
			err := c.call()
			var pe *payroc.Error
			require.True(t, errors.As(err, &pe))
			require.Equal(t, c.code, pe.Code)
			require.Equal(t, c.status, pe.Status)
		})
	}

	t.Run("cancel of a completed instruction is its refund", func(t *testing.T) {
		got, err := e.client.Cancel(ctx, done.RefundInstructionID)
		require.NoError(t, err)
		require.Equal(t, payroc.StatusCompleted, got.Status)
		require.Equal(t, done.RefundID, got.RefundID)
	})
	t.Run("cancel of a failed instruction is its failure", func(t *testing.T) {
		got, err := e.client.Cancel(ctx, failed.RefundInstructionID)
		require.NoError(t, err)
		require.Equal(t, payroc.StatusFailure, got.Status)
		require.NotEmpty(t, got.ErrorMessage)
	})
	t.Run("transient failures are retried into one answer", func(t *testing.T) {
		_ = e.sim.FailNext(1, 500, sim.FailOptions{Route: sim.RouteSubmit})
		_ = e.sim.FailNext(1, 429, sim.FailOptions{Route: sim.RouteSubmit})
		_ = e.sim.FailNext(1, 503, sim.FailOptions{Route: sim.RouteSubmit})
		before := e.sim.Stats().Requests[sim.RouteSubmit]
		ri, err := e.client.Submit(ctx, refund(t, "1850010868", request(4999), ""))
		require.NoError(t, err)
		n := e.sim.Stats().Requests[sim.RouteSubmit] - before
		assert.EqualValues(t, 4, n)
		assert.EqualValues(t, 1, e.sim.InstructionsFor(ri.IdempotencyKey), "instructions for the key: %d", e.sim.InstructionsFor(ri.IdempotencyKey))
	})
	t.Run("identity down is identity-unavailable", func(t *testing.T) {
		c := *e.client
		doer := payroc.HTTPDoer{Client: e.hc}
		c.Tokens = &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: e.url, APIKey: "wrong", Doer: doer}).Mint}
		_, err := c.Refund(ctx, done.RefundID)
		var pe *payroc.Error
		require.True(t, errors.As(err, &pe))
		require.Equal(t, payroc.CodeIdentityUnavailable, pe.Code)
		require.ErrorIs(t, err, &payroc.Error{Code: payroc.CodeNotAuthorized})
	})
}

// TestIdentity checks POST /authorize: the key is the only credential, the body is ignored, and the
// answer has Payroc's fields.
func TestIdentity(t *testing.T) {
	e := start(t, sim.Config{APIKey: "test-key-1", TokenTTL: 90 * time.Second})
	cases := []struct {
		name   string
		path   string
		header map[string]string
		body   string
		status int
	}{
		{name: "curl: key, no body", path: "/authorize", header: map[string]string{"x-api-key": "test-key-1"}, status: 200},
		{name: "Go SDK: key and an empty client body", path: "/authorize",
			header: map[string]string{"x-api-key": "test-key-1", "Content-Type": "application/json"},
			body:   `{"client_id":"","client_secret":""}`, status: 200},
		{name: "under /v1", path: "/v1/authorize", header: map[string]string{"X-Api-Key": "test-key-1"}, status: 200},
		{name: "no key", path: "/authorize", status: 401},
		{name: "the default key is not this one's", path: "/authorize", header: map[string]string{"x-api-key": sim.DefaultAPIKey}, status: 401},
		{name: "key as a bearer", path: "/authorize", header: map[string]string{"Authorization": "Bearer test-key-1"}, status: 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, b := e.do(t, "POST", c.path, c.header, c.body)
			require.Equal(t, c.status, res.StatusCode)
			if c.status != 200 {
				return
			}
			var tr map[string]any
			require.NoError(t, json.Unmarshal(b, &tr))
			require.Equal(t, "Bearer", tr["token_type"], "answer %s", b)
			require.Equal(t, float64(90), tr["expires_in"], "answer %s", b)
			require.NotEmpty(t, tr["scope"], "answer %s", b)
			require.NotEmpty(t, tr["access_token"], "answer %s", b)
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"), "headers %v", res.Header)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "headers %v", res.Header)
		})
	}
	st := e.sim.Stats()
	require.Equal(t, len(cases), st.IdentityCalls, "identity calls %d, tokens %d", st.IdentityCalls, st.TokensIssued)
	require.EqualValues(t, 3, st.TokensIssued, "identity calls %d, tokens %d", st.IdentityCalls, st.TokensIssued)
}

// TestTokenCacheMintsOnce: many calls through one client mint one token.
func TestTokenCacheMintsOnce(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := e.client.Refund(t.Context(), "CD3HN88U9F")
			assert.ErrorIs(t, err, payroc.ErrNotFound)
		})
	}
	wg.Wait()
	n := e.sim.Stats().IdentityCalls
	assert.EqualValues(t, 1, n)
}

// TestConcurrentRefundsOnManyDevices runs many refunds at once across the extra devices.
func TestConcurrentRefundsOnManyDevices(t *testing.T) {
	cfg := fast
	cfg.ExtraDevices = 20
	e := start(t, cfg)
	devs := e.sim.Devices()
	require.Len(t, devs, 22, "devices %+v", devs)
	require.Equal(t, "1850020001", devs[2].SerialNumber, "devices %+v", devs)
	require.Equal(t, "1850020020", devs[21].SerialNumber, "devices %+v", devs)
	require.Equal(t, "1234001", devs[21].ProcessingTerminalID, "devices %+v", devs)
	want := map[int64]payroc.Outcome{0: payroc.OutcomeApproved, 1: payroc.OutcomeDeclined, 2: payroc.OutcomeFailed, 7: payroc.OutcomeApproved}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			dev := devs[2+i%20]
			end := []int64{0, 1, 2, 7}[i%4]
			req := request(int64(1000*(i+1)) + end)
			req.ProcessingTerminalID = dev.ProcessingTerminalID
			res, err := e.client.RunRefund(t.Context(), refund(t, dev.SerialNumber, req, ""), payroc.RunOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			assert.Equal(t, want[end], res.Outcome)
		})
	}
	wg.Wait()
	st := e.sim.Stats()
	assert.EqualValues(t, 60, st.InstructionsCreated, "stats %+v", st)
	assert.EqualValues(t, 45, st.RefundsCreated, "stats %+v", st)
	assert.EqualValues(t, 0, st.InProgress, "stats %+v", st)
	for k, n := range st.InstructionsByKey {
		assert.Equal(t, 1, n, "instructions for key %s", k)
		assert.LessOrEqual(t, st.RefundsByKey[k], 1, "refunds for key %s", k)
	}
}

// TestTransportInProcess runs a refund with no listener at all, and a drop becomes a transport error.
func TestTransportInProcess(t *testing.T) {
	cfg := fast
	cfg.Hold, cfg.Timeout = time.Hour, time.Hour // the test's poll stays held until it cancels it
	s := sim.New(cfg)
	defer s.Close()
	doer := payroc.HTTPDoer{Client: &http.Client{Transport: s.Transport()}}
	c := &payroc.Client{BaseURL: "http://payroc.sim/v1", Doer: doer, MinPollInterval: time.Millisecond,
		Tokens: &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: "http://payroc.sim", APIKey: s.APIKey(), Doer: doer}).Mint},
		Retry:  payroc.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
	_ = s.DropNext(1, sim.RouteSubmit)
	key := payroc.NewIdempotencyKey()
	res, err := c.RunRefund(t.Context(), refund(t, "1850010868", request(4999), key), payroc.RunOptions{})
	require.NoError(t, err)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "result %+v %+v", res, res.Instruction.Link)
	require.Equal(t, "http://payroc.sim/v1/refunds/"+res.Refund.RefundID, res.Instruction.Link.Href, "result %+v %+v", res, res.Instruction.Link)
	require.EqualValues(t, 1, s.InstructionsFor(key), "stats %+v", s.Stats())
	require.EqualValues(t, 1, s.RefundsFor(key), "stats %+v", s.Stats())
	require.EqualValues(t, 2, s.Stats().Requests[sim.RouteSubmit], "stats %+v", s.Stats())

	// A long-poll through the transport ends with its context.
	ri, err := c.Submit(t.Context(), refund(t, "1850010868", request(4903), ""))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Instruction(ctx, ri.RefundInstructionID)
		errc <- err
	}()
	require.Eventually(t, func() bool { return s.Stats().HeldPolls == 1 }, time.Minute, time.Millisecond, "a held poll")
	cancel()
	err = <-errc
	assert.ErrorIs(t, err, context.Canceled)
	require.Eventually(t, func() bool { return s.Stats().HeldPolls == 0 }, time.Minute, time.Millisecond, "the hold released")
}
