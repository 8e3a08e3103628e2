package sim_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdempotentReplay(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: 10 * time.Millisecond, Timeout: time.Hour})
	tok := e.token(t)
	const path = "/v1/devices/1850010868/refund-instructions"
	key := payroc.NewIdempotencyKey()
	res, b := e.do(t, "POST", path, submitHeaders(tok, key), body(4999))
	require.EqualValues(t, 202, res.StatusCode, "%d %s", res.StatusCode, b)
	first := instructionOf(t, b)

	same := []struct{ name, key, body string }{
		{"same bytes", key, body(4999)},
		{"key in upper case", strings.ToUpper(key), body(4999)},
		{"fields reordered, spaced", key, `{ "operator": "cashier-1", "order": {"currency":"USD","amount":4999,` +
			`"description":"Refund for ORDER-1001","orderId":"ORDER-1001"}, "processingTerminalId": "1234001" }`},
	}
	for _, c := range same {
		t.Run("replay: "+c.name, func(t *testing.T) {
			res, b := e.do(t, "POST", path, submitHeaders(tok, c.key), c.body)
			require.EqualValues(t, 202, res.StatusCode)
			require.Equal(t, first.RefundInstructionID, instructionOf(t, b).RefundInstructionID)
		})
	}
	other := []struct{ name, path, body string }{
		{"another amount", path, body(5000)},
		{"another operator", path, strings.Replace(body(4999), "cashier-1", "cashier-2", 1)},
		{"another device", "/v1/devices/1850010869/refund-instructions", strings.Replace(body(4999), "1234001", "1234002", 1)},
	}
	for _, c := range other {
		t.Run("conflict: "+c.name, func(t *testing.T) {
			res, b := e.do(t, "POST", c.path, submitHeaders(tok, key), c.body)
			p := payroc.ParseProblem(res.StatusCode, nil, b)
			require.EqualValues(t, 409, res.StatusCode, "%d %s", res.StatusCode, b)
			require.Equal(t, payroc.CodeIdempotencyKeyInUse, p.Code, "%d %s", res.StatusCode, b)
		})
	}
	t.Run("replay after completion answers the current status", func(t *testing.T) {
		_ = e.sim.Finish(first.RefundInstructionID, payroc.StatusCompleted)
		res, b := e.do(t, "POST", path, submitHeaders(tok, key), body(4999))
		ri := instructionOf(t, b)
		require.EqualValues(t, 202, res.StatusCode, "%d %s", res.StatusCode, b)
		require.Equal(t, first.RefundInstructionID, ri.RefundInstructionID, "%d %s", res.StatusCode, b)
		require.Equal(t, payroc.StatusCompleted, ri.Status, "%d %s", res.StatusCode, b)
		require.Equal(t, "refund", ri.Link.Rel, "%d %s", res.StatusCode, b)
	})
	n, r := e.sim.InstructionsFor(key), e.sim.RefundsFor(key)
	assert.EqualValues(t, 1, n, "%d instructions, %d refunds for the key", n, r)
	assert.EqualValues(t, 1, r, "%d instructions, %d refunds for the key", n, r)
	// The client gets the same instruction for the same key, too.
	ri, err := e.client.Submit(t.Context(), refund(t, "1850010868", request(4999), key))
	require.NoError(t, err, "client replay %+v, %v", ri, err)
	require.Equal(t, first.RefundInstructionID, ri.RefundInstructionID, "client replay %+v, %v", ri, err)
}

// TestConcurrentDuplicatesMakeOneInstruction: the same submit sent many times at once.
func TestConcurrentDuplicatesMakeOneInstruction(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour})
	tok := e.token(t)
	key := payroc.NewIdempotencyKey()
	ids := make(chan string, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			res, b, err := e.try(context.Background(), "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, key), body(4999))
			if !assert.NoError(t, err) || !assert.Equal(t, 202, res.StatusCode, "%s", b) {
				return
			}
			ids <- instructionOf(t, b).RefundInstructionID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	require.Len(t, seen, 1, "ids %v, stats %+v", seen, e.sim.Stats())
	require.EqualValues(t, 1, e.sim.InstructionsFor(key), "ids %v, stats %+v", seen, e.sim.Stats())
	require.EqualValues(t, 1, e.sim.Stats().InstructionsCreated, "ids %v, stats %+v", seen, e.sim.Stats())
}

// TestDroppedSubmitIsRetriedIntoOneRefund: the first answer to a submit is lost after the instruction was
// made; the client's retry with the same key gets the original, and exactly one refund results.
func TestDroppedSubmitIsRetriedIntoOneRefund(t *testing.T) {
	e := start(t, fast)
	require.NoError(t, e.sim.DropNext(1, sim.RouteSubmit))
	require.NoError(t, e.sim.DropNext(1, sim.RouteGetRefund))
	key := payroc.NewIdempotencyKey()
	res, err := e.client.RunRefund(t.Context(), refund(t, "1850010868", request(4999), key), payroc.RunOptions{})
	require.NoError(t, err)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "outcome %s", res.Outcome)
	st := e.sim.Stats()
	require.EqualValues(t, 2, st.Requests[sim.RouteSubmit], "requests %v, pending drops %d", st.Requests, st.PendingDrops)
	require.EqualValues(t, 2, st.Requests[sim.RouteGetRefund], "requests %v, pending drops %d", st.Requests, st.PendingDrops)
	require.EqualValues(t, 0, st.PendingDrops, "requests %v, pending drops %d", st.Requests, st.PendingDrops)
	require.EqualValues(t, 1, st.InstructionsByKey[key], "stats %+v", st)
	require.EqualValues(t, 1, st.RefundsByKey[key], "stats %+v", st)
	require.EqualValues(t, 1, st.InstructionsCreated, "stats %+v", st)
	require.EqualValues(t, 1, st.RefundsCreated, "stats %+v", st)
}

// TestDropWithoutRetryLeavesTheInstruction: a raw client that gives up after the drop still left an
// instruction behind, which a replay with the same key finds.
func TestDropWithoutRetryLeavesTheInstruction(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour})
	tok := e.token(t)
	_ = e.sim.DropNext(1, sim.RouteAny)
	key := payroc.NewIdempotencyKey()
	once := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	_, _, err := e.tryWith(context.Background(), once, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, key), body(4999))
	require.Error(t, err, "the dropped request got an answer")
	n := e.sim.InstructionsFor(key)
	require.EqualValues(t, 1, n, "%d instructions", n)
	res, b := e.do(t, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, key), body(4999))
	require.EqualValues(t, 202, res.StatusCode, "%d %s", res.StatusCode, b)
	require.EqualValues(t, 1, e.sim.InstructionsFor(key), "%d %s", res.StatusCode, b)
}
