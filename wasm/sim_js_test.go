package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/wasm/pending"
)

// roundTripDoer is a payroc.Doer over an http.RoundTripper: here the simulator's in-process Transport, so
// the module's functions run against the real simulator inside the Node test process (js/wasm cannot
// listen; the wire itself is covered by the fetch tests and the browser suite).
type roundTripDoer struct{ rt http.RoundTripper }

func (d roundTripDoer) Do(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	for k, v := range req.Header {
		hr.Header.Set(k, v)
	}
	res, err := d.rt.RoundTrip(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	h := payroc.Header{}
	for k := range res.Header {
		h.Set(k, res.Header.Get(k))
	}
	return &payroc.Response{StatusCode: res.StatusCode, Header: h, Body: b}, nil
}

// newSimAPI starts a fast simulator and returns the module's object over it, with a bearer from the
// simulator's identity service as the token.
func newSimAPI(t *testing.T) (js.Value, *pending.Store, *sim.Simulator) {
	t.Helper()
	s := sim.New(sim.Config{Delay: 20 * time.Millisecond, Hold: 150 * time.Millisecond, Timeout: time.Hour}) // a cancel, never a timeout, ends 03 and 05
	t.Cleanup(s.Close)
	d := roundTripDoer{s.Transport()}
	id := &payroc.Identity{BaseURL: "http://sim.test", APIKey: s.APIKey(), Doer: d}
	tok, err := id.Mint(context.Background())
	require.NoError(t, err)
	cfg := config{BaseURL: "http://sim.test", Token: tok.AccessToken, Doer: d, Storage: &pending.MemoryStorage{}, Retry: fastRetry}
	a := newAPI(cfg)
	return a.object(), a.store, s
}

func simRequest(amount int64) string {
	b, _ := json.Marshal(map[string]any{
		"serialNumber": "1850010868", "processingTerminalId": "1234001", "operator": "cashier-1",
		"order": map[string]any{"orderId": "ORDER-1001", "description": "Refund for order ORDER-1001", "amount": amount, "currency": "USD"},
	})
	return string(b)
}

func TestSimulatorRefundOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		amount   int64
		outcome  payroc.Outcome
		statuses []string
	}{
		{"approved", 4999, payroc.OutcomeApproved, []string{"inProgress", "completed"}},
		{"declined", 4901, payroc.OutcomeDeclined, []string{"inProgress", "completed"}},
		{"device error", 4902, payroc.OutcomeFailed, []string{"inProgress", "failure"}},
		{"approved after more than one hold", 4904, payroc.OutcomeApproved, []string{"inProgress", "completed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, store, s := newSimAPI(t)
			rec := newStatusRecorder(t)
			var res payroc.RefundResult
			resolved(t, api.Call("refund", simRequest(tt.amount), opts("onStatus", rec.fn)), &res)
			require.Equal(t, tt.outcome, res.Outcome, "outcome %s, statuses %v", res.Outcome, rec.statuses())
			require.Equal(t, tt.statuses, rec.statuses(), "statuses seen by onStatus")
			wantRefund := tt.outcome == payroc.OutcomeApproved || tt.outcome == payroc.OutcomeDeclined
			require.Equal(t, wantRefund, res.Refund != nil, "a refund in the result: %+v", res.Refund)
			if tt.outcome == payroc.OutcomeApproved {
				assert.Equal(t, res.Instruction.RefundID, res.Refund.RefundID)
				if assert.NotNil(t, res.Refund.TransactionResult.AuthorizedAmount) {
					assert.Equal(t, -tt.amount, *res.Refund.TransactionResult.AuthorizedAmount, "authorizedAmount")
				}
			}
			st := s.Stats()
			require.EqualValues(t, 1, st.InstructionsByKey[res.Instruction.IdempotencyKey], "instructions for the key: %v", st.InstructionsByKey)
			recs, _ := store.List()
			require.Empty(t, recs, "records left %+v", recs)
		})
	}
}

func TestSimulatorCancel(t *testing.T) {
	tests := []struct {
		name       string
		amount     int64
		cancelGave payroc.Status
		outcome    payroc.Outcome
	}{
		{"no card presented: the cancel wins", 4903, payroc.StatusCanceled, payroc.OutcomeCanceled},
		{"the device finishes as the cancel arrives", 4905, payroc.StatusCompleted, payroc.OutcomeApproved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api, _, _ := newSimAPI(t)
			ids := make(chan string, 1)
			rec := newStatusRecorder(t)
			rec.during = func(inst payroc.RefundInstruction) {
				if inst.Status == payroc.StatusInProgress {
					ids <- inst.RefundInstructionID
				}
			}
			p := api.Call("refund", simRequest(tt.amount), opts("onStatus", rec.fn))
			id := <-ids
			var got payroc.RefundInstruction
			resolved(t, api.Call("cancel", id), &got)
			require.Equal(t, tt.cancelGave, got.Status, "the cancel's answer %+v", got)
			if tt.cancelGave == payroc.StatusCompleted {
				require.NotEmpty(t, got.RefundID, "the cancel's answer carries the refund id")
			}
			var res payroc.RefundResult
			resolved(t, p, &res)
			require.Equal(t, tt.outcome, res.Outcome, "outcome %s", res.Outcome)
		})
	}
}

func TestSimulatorLostAnswerIsResumedExactlyOnce(t *testing.T) {
	api, store, s := newSimAPI(t)
	// Every submit attempt is processed by the simulator, then its connection dropped: the instruction
	// exists, but the page never hears of it.
	require.NoError(t, s.DropNext(fastRetry.MaxAttempts, sim.RouteSubmit))
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	e := rejectedErr(t, api.Call("refund", simRequest(4999), opts("idempotencyKey", key)))
	require.Equal(t, payroc.CodeNetworkError, e.Code)
	recs, _ := store.List()
	require.Len(t, recs, 1, "pending %+v", recs)
	require.Empty(t, recs[0].RefundInstructionID, "pending %+v", recs)
	// After the "reload": resume replays the submit with the same key; the simulator replays the
	// original instruction instead of making a second one.
	var res payroc.RefundResult
	resolved(t, api.Call("resume", key), &res)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "outcome %s", res.Outcome)
	st := s.Stats()
	require.EqualValues(t, 1, st.InstructionsByKey[key], "stats %+v", st)
	require.EqualValues(t, 1, st.RefundsByKey[key], "stats %+v", st)
	require.Equal(t, fastRetry.MaxAttempts+1, st.Requests[sim.RouteSubmit], "stats %+v", st)
	recs, _ = store.List()
	require.Empty(t, recs, "pending after resume %+v", recs)
}

func TestSimulatorRefusedSubmitLeavesNoRecord(t *testing.T) {
	api, store, s := newSimAPI(t)
	req := simRequest(4999)
	var m map[string]any
	_ = json.Unmarshal([]byte(req), &m)
	m["processingTerminalId"] = "1234002" // not this device's terminal: 400 naming the field
	b, _ := json.Marshal(m)
	e := rejectedErr(t, api.Call("refund", string(b)))
	require.Equal(t, payroc.CodeBadRequest, e.Code)
	require.EqualValues(t, 400, e.Status)
	var p struct {
		Errors []payroc.FieldError `json:"errors"`
	}
	_ = json.Unmarshal(e.Problem, &p)
	require.NotEmpty(t, p.Errors, "problem %s", e.Problem)
	require.Equal(t, "processingTerminalId", p.Errors[0].Parameter, "problem %s", e.Problem)
	recs, _ := store.List()
	require.Empty(t, recs, "records %+v", recs)
	require.EqualValues(t, 0, s.Stats().InstructionsCreated, "records %+v", recs)
}
