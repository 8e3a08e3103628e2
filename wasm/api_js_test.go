package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

func TestSubmitRecordsBeforeTheFirstByteAndReturnsTheInstruction(t *testing.T) {
	f := newFakePayroc()
	api, store := newTestAPI(t, f, config{})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	var recordAtSend *pending.Refund
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		if req.Method == "POST" {
			recordAtSend, _ = store.Get(req.Header.Get("idempotency-key"))
		}
		return nil, nil, false
	}
	var inst map[string]any
	text := resolved(t, api.Call("submit", validRequest, opts("idempotencyKey", key)), &inst)
	require.NotNil(t, recordAtSend, "record when the POST left: %+v", recordAtSend)
	require.EqualValues(t, 4999, recordAtSend.Request.Order.Amount, "record when the POST left: %+v", recordAtSend)
	require.Empty(t, recordAtSend.RefundInstructionID, "record when the POST left: %+v", recordAtSend)
	require.Equal(t, "inProgress", inst["status"], "instruction %s", text)
	require.Equal(t, key, inst["idempotencyKey"], "instruction %s", text)
	require.NotEmpty(t, inst["refundInstructionId"], "instruction %s", text)
	_, ok := inst["link"].(map[string]any)
	require.True(t, ok, "instruction lost Payroc's link: %s", text)
	rec, _ := store.Get(key)
	require.NotNil(t, rec, "record after the 202: %+v", rec)
	require.Equal(t, inst["refundInstructionId"], rec.RefundInstructionID, "record after the 202: %+v", rec)
	require.Equal(t, payroc.StatusInProgress, rec.Status, "record after the 202: %+v", rec)
	// The body on the wire is Payroc's, without serialNumber (that goes in the path).
	f.mu.Lock()
	body := string(f.requests[0].Body)
	url := f.requests[0].URL
	f.mu.Unlock()
	require.NotContains(t, body, "serialNumber", "sent %s %s", url, body)
	require.True(t, strings.HasSuffix(url, "/devices/1850010868/refund-instructions"), "sent %s %s", url, body)
}

func TestSubmitGeneratesAKeyWhenNoneIsGiven(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(), config{})
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	require.NoError(t, isKey(inst.IdempotencyKey), "key %q", inst.IdempotencyKey)
}

func TestSubmitInvalidInputIsRefusedLocallyAndRecordsNothing(t *testing.T) {
	tests := []struct {
		name    string
		request any // JSON text, or a JS value as the raw function receives it
		opts    js.Value
		field   string
	}{
		{"decimal amount", strings.Replace(validRequest, "4999", "49.99", 1), js.Undefined(), "order.amount"},
		{"bad key", validRequest, opts("idempotencyKey", "not-a-uuid"), "Idempotency-Key"},
		{"key not a string", validRequest, opts("idempotencyKey", 5), "idempotencyKey"},
		{"no request", js.Undefined(), js.Undefined(), "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePayroc()
			api, store := newTestAPI(t, f, config{})
			e := rejectedErr(t, api.Call("submit", tt.request, tt.opts))
			require.Equal(t, payroc.CodeInvalidRequest, e.Code)
			require.EqualValues(t, 0, e.Status)
			require.Contains(t, string(e.Problem), `"`+tt.field+`"`)
			recs, _ := store.List()
			require.Empty(t, recs, "records %v, requests %d", recs, len(f.requests))
			require.Empty(t, f.requests, "records %v, requests %d", recs, len(f.requests))
		})
	}
}

func TestRefundApprovedResultShapeAndStatusOrder(t *testing.T) {
	f := newFakePayroc(payroc.StatusInProgress, payroc.StatusInProgress, payroc.StatusCompleted)
	api, store := newTestAPI(t, f, config{})
	rec := newStatusRecorder(t)
	var during []*pending.Refund
	rec.during = func(inst payroc.RefundInstruction) {
		r, _ := store.Get(inst.IdempotencyKey)
		during = append(during, r)
	}
	var res map[string]json.RawMessage
	text := resolved(t, api.Call("refund", validRequest, opts("onStatus", rec.fn)), &res)

	got := rec.statuses()
	require.True(t, slices.Equal(got, []string{"inProgress", "completed"}))
	require.NotNil(t, during[0], "the id was not recorded when it arrived: %+v", during[0])
	require.NotEmpty(t, during[0].RefundInstructionID, "the id was not recorded when it arrived: %+v", during[0])
	var outcome string
	_ = json.Unmarshal(res["outcome"], &outcome)
	var inst payroc.RefundInstruction
	_ = json.Unmarshal(res["instruction"], &inst)
	var refund payroc.Refund
	_ = json.Unmarshal(res["refund"], &refund)
	assert.Equal(t, "approved", outcome, "result %s", text)
	assert.Equal(t, payroc.StatusCompleted, inst.Status)
	assert.Equal(t, "CD3HN88U9F", inst.RefundID)
	assert.NoError(t, isKey(inst.IdempotencyKey), "the result's idempotency key")
	assert.Equal(t, "453985******7062", refund.Card.CardNumber)
	recs, _ := store.List()
	require.Empty(t, recs, "record left after the outcome was known: %+v", recs)
}

func TestRefundOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		final   payroc.Status
		code    string
		outcome string
		refund  bool
	}{
		{"approved", payroc.StatusCompleted, "A", "approved", true},
		{"declined", payroc.StatusCompleted, "D", "declined", true},
		{"failed", payroc.StatusFailure, "", "failed", false},
		{"canceled", payroc.StatusCanceled, "", "canceled", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePayroc(tt.final)
			f.code = tt.code
			api, store := newTestAPI(t, f, config{})
			var res map[string]json.RawMessage
			text := resolved(t, api.Call("refund", validRequest), &res)
			require.Equal(t, `"`+tt.outcome+`"`, string(res["outcome"]), "result %s", text)
			require.NotEqual(t, !tt.refund, (string(res["refund"]) != "null"), "result %s", text)
			recs, _ := store.List()
			require.Empty(t, recs, "record left: %+v", recs)
		})
	}
}

func TestRefundNetworkFailureKeepsTheRecordAndResumeFinishesWithTheSameKey(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	offline := true
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		if offline {
			return nil, errors.New("TypeError: Failed to fetch"), true
		}
		return nil, nil, false
	}
	api, _ := newTestAPI(t, f, config{})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	e := rejectedErr(t, api.Call("refund", validRequest, opts("idempotencyKey", key)))
	require.Equal(t, payroc.CodeNetworkError, e.Code)
	require.True(t, e.Retryable)
	require.Equal(t, fastRetry.MaxAttempts, f.submits())
	for _, r := range f.requests {
		require.Equal(t, key, r.Header.Get("idempotency-key"), "a retry used key %q", r.Header.Get("idempotency-key"))
	}
	var pend []pending.Refund
	resolved(t, api.Call("pending"), &pend)
	require.Len(t, pend, 1, "pending %+v", pend)
	require.Equal(t, key, pend[0].IdempotencyKey, "pending %+v", pend)
	require.Equal(t, "1850010868", pend[0].Request.SerialNumber, "pending %+v", pend)
	require.NotEmpty(t, pend[0].UpdatedAt, "pending %+v", pend)

	offline = false
	rec := newStatusRecorder(t)
	var res payroc.RefundResult
	resolved(t, api.Call("resume", key, opts("onStatus", rec.fn)), &res)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "resume result %+v", res)
	require.Equal(t, key, res.Instruction.IdempotencyKey, "resume result %+v", res)
	got := rec.statuses()
	require.True(t, slices.Equal(got, []string{"inProgress", "completed"}), "onStatus saw %v", got)
	resolved(t, api.Call("pending"), &pend)
	require.Empty(t, pend, "pending after resume %+v", pend)
}

func TestResumeWatchesTheKnownInstructionWithoutResubmitting(t *testing.T) {
	f := newFakePayroc(payroc.StatusInProgress, payroc.StatusCompleted)
	api, store := newTestAPI(t, f, config{})
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	// As after a reload: the record holds the id and inProgress.
	rec := newStatusRecorder(t)
	var res payroc.RefundResult
	resolved(t, api.Call("resume", inst.IdempotencyKey, opts("onStatus", rec.fn)), &res)
	require.EqualValues(t, 1, f.submits())
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "result %+v", res)
	require.Equal(t, inst.RefundInstructionID, res.Instruction.RefundInstructionID, "result %+v", res)
	got := rec.statuses()
	require.True(t, slices.Equal(got, []string{"inProgress", "completed"}), "onStatus saw %v", got)
	recs, _ := store.List()
	require.Empty(t, recs, "record left %+v", recs)
}

func TestResumeResubmitsWithTheSameKeyWhenTheInstructionIsUnknown(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	api, store := newTestAPI(t, f, config{})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	_, err := store.Begin(mustRefund(t, key))
	require.NoError(t, err)
	_ = store.Observe(key, &payroc.RefundInstruction{RefundInstructionID: "forgotten", Status: payroc.StatusInProgress}, false)
	var res payroc.RefundResult
	resolved(t, api.Call("resume", key), &res)
	require.EqualValues(t, 1, f.submits(), "submits %d, result %+v", f.submits(), res)
	require.Equal(t, "GET", f.requests[len(f.requests)-1].Method, "submits %d, result %+v", f.submits(), res)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "submits %d, result %+v", f.submits(), res)
	var post *payroc.Request
	for i := range f.requests {
		if f.requests[i].Method == "POST" {
			post = &f.requests[i]
		}
	}
	require.Equal(t, key, post.Header.Get("idempotency-key"), "resubmitted with key %q", post.Header.Get("idempotency-key"))
}

func TestResumeOfAnUnknownKeyIsNotFound(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(), config{})
	e := rejectedErr(t, api.Call("resume", "8e03978e-40d5-43e8-bc93-6894a57f9324"))
	require.Equal(t, payroc.CodeNotFound, e.Code)
	require.EqualValues(t, 0, e.Status)
}

func TestDefiniteRefusalClearsTheRecord(t *testing.T) {
	for _, code := range []string{payroc.CodeDeviceBusy, payroc.CodeOutOfScope, payroc.CodeBadRequest} {
		t.Run(code, func(t *testing.T) {
			f := newFakePayroc()
			f.before = func(*payroc.Request) (*payroc.Response, error, bool) {
				return problem(payroc.StatusForCode(code), code), nil, true
			}
			api, store := newTestAPI(t, f, config{})
			for _, fn := range []string{"submit", "refund"} {
				e := rejectedErr(t, api.Call(fn, validRequest))
				require.Equal(t, code, e.Code, "%s: got %+v", fn, e)
				require.Equal(t, payroc.StatusForCode(code), e.Status, "%s: got %+v", fn, e)
				require.False(t, e.Retryable, "%s: got %+v", fn, e)
				recs, _ := store.List()
				require.Empty(t, recs, "%s: record kept after %s: %+v", fn, code, recs)
			}
		})
	}
}

func TestAmbiguousFailuresKeepTheRecord(t *testing.T) {
	for _, status := range []int{500, 502, 504} {
		f := newFakePayroc()
		f.before = func(*payroc.Request) (*payroc.Response, error, bool) {
			return problem(status, payroc.CodeForStatus(status)), nil, true
		}
		api, store := newTestAPI(t, f, config{})
		rejectedErr(t, api.Call("submit", validRequest))
		recs, _ := store.List()
		require.Len(t, recs, 1)
	}
}

func TestWatchReportsEachStatusOnceAndClearsTheRecord(t *testing.T) {
	f := newFakePayroc(payroc.StatusInProgress, payroc.StatusInProgress, payroc.StatusInProgress, payroc.StatusFailure)
	api, store := newTestAPI(t, f, config{})
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	rec := newStatusRecorder(t)
	var final payroc.RefundInstruction
	resolved(t, api.Call("watch", inst.RefundInstructionID, opts("onStatus", rec.fn)), &final)
	got := rec.statuses()
	require.True(t, slices.Equal(got, []string{"inProgress", "failure"}), "onStatus saw %v", got)
	require.Equal(t, payroc.StatusFailure, final.Status, "final %+v", final)
	require.NotEmpty(t, final.ErrorMessage, "final %+v", final)
	require.Equal(t, inst.IdempotencyKey, final.IdempotencyKey, "final %+v", final)
	recs, _ := store.List()
	require.Empty(t, recs, "record left %+v", recs)
}

func TestWatchAbortStopsTheLongPollAndLeavesTheInstruction(t *testing.T) {
	f := newFakePayroc()
	polling := make(chan struct{}, 1)
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		if req.Method == "GET" {
			select {
			case polling <- struct{}{}:
			default:
			}
		}
		return nil, nil, false
	}
	// A long-poll that only ends with its context.
	hold := payroc.DoerFunc(func(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
		if req.Method == "GET" {
			_, _, _ = f.before(req)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return f.Do(ctx, req)
	})
	api, store := newTestAPI(t, f, config{Doer: hold})
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	ac := js.Global().Get("AbortController").New()
	p := api.Call("watch", inst.RefundInstructionID, opts("signal", ac.Get("signal")))
	<-polling
	ac.Call("abort")
	v, rej := settle(t, p)
	require.True(t, rej)
	require.Equal(t, "AbortError", v.Get("name").String())
	for _, r := range f.requests {
		require.NotEqual(t, "DELETE", r.Method, "aborting sent a cancel to the device")
	}
	rec, _ := store.Get(inst.IdempotencyKey)
	require.NotNil(t, rec, "aborting a watch dropped the pending record")
}

func TestCancel(t *testing.T) {
	t.Run("won", func(t *testing.T) {
		f := newFakePayroc()
		api, store := newTestAPI(t, f, config{})
		var inst, got payroc.RefundInstruction
		resolved(t, api.Call("submit", validRequest), &inst)
		resolved(t, api.Call("cancel", inst.RefundInstructionID), &got)
		require.Equal(t, payroc.StatusCanceled, got.Status)
		require.Equal(t, inst.IdempotencyKey, got.IdempotencyKey)
		recs, _ := store.List()
		require.Empty(t, recs, "record left %+v", recs)
	})
	t.Run("device finished first", func(t *testing.T) {
		f := newFakePayroc()
		f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
			if req.Method != "DELETE" {
				return nil, nil, false
			}
			return &payroc.Response{StatusCode: 409, Header: payroc.Header{}, Body: []byte(`{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","title":"Cannot be canceled","status":409,"detail":"done","link":{"rel":"refund","method":"GET","href":"https://pos.example/v1/refunds/M2MJOG6O2Y"}}`)}, nil, true
		}
		api, _ := newTestAPI(t, f, config{})
		var got payroc.RefundInstruction
		resolved(t, api.Call("cancel", "a37439165d134678a9100ebba3b29597"), &got)
		require.Equal(t, payroc.StatusCompleted, got.Status)
		require.Equal(t, "M2MJOG6O2Y", got.RefundID)
	})
	t.Run("unknown", func(t *testing.T) {
		api, _ := newTestAPI(t, newFakePayroc(), config{})
		e := rejectedErr(t, api.Call("cancel", "nope"))
		require.Equal(t, payroc.CodeNotFound, e.Code)
		require.EqualValues(t, 404, e.Status)
	})
	t.Run("no id", func(t *testing.T) {
		api, _ := newTestAPI(t, newFakePayroc(), config{})
		e := rejectedErr(t, api.Call("cancel"))
		require.Equal(t, payroc.CodeInvalidRequest, e.Code)
	})
}

func TestGetRefund(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(), config{})
	var r payroc.Refund
	text := resolved(t, api.Call("getRefund", "CD3HN88U9F"), &r)
	require.Equal(t, "CD3HN88U9F", r.RefundID, "refund %s", text)
	require.NotNil(t, r.TransactionResult.AuthorizedAmount, "refund %s", text)
	require.EqualValues(t, -4999, *r.TransactionResult.AuthorizedAmount, "refund %s", text)
}

func TestExpiredLaneTokenIsRenewedThroughGetToken(t *testing.T) {
	f := newFakePayroc()
	f.token = "lane-token-2"
	calls := 0
	get := js.FuncOf(func(js.Value, []js.Value) any {
		calls++
		return js.Global().Get("Promise").Call("resolve", "lane-token-2")
	})
	defer get.Release()
	api, _ := newTestAPI(t, f, config{Token: "lane-token-1", GetToken: get.Value})
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	require.EqualValues(t, 1, calls)
	require.EqualValues(t, 2, f.submits())
	// Later calls use the new token without asking again.
	resolved(t, api.Call("getRefund", "CD3HN88U9F"), nil)
	require.EqualValues(t, 1, calls, "getToken called %d times", calls)
}

// A getToken that fails rejects the call with its own PayrocError, or with token-unavailable (retryable)
// for anything else; the refused submit leaves no record.
func TestGetTokenFailuresKeepTheirCode(t *testing.T) {
	for _, tc := range []struct {
		name, src, code string
		status          int
		retryable       bool
	}{
		{"rejects with an Error", `return Promise.reject(new Error("signed out"))`, payroc.CodeTokenUnavailable, 0, true},
		{"throws", `throw new Error("signed out")`, payroc.CodeTokenUnavailable, 0, true},
		{"rejects with a string", `return Promise.reject("signed out")`, payroc.CodeTokenUnavailable, 0, true},
		{"gives no token", `return Promise.resolve("")`, payroc.CodeTokenUnavailable, 0, true},
		{"gives a number", `return 42`, payroc.CodeTokenUnavailable, 0, true},
		{"rejects with a PayrocError", `const e = new Error("revoked by the back office"); e.name = "PayrocError";
			e.code = "lane-token-revoked"; e.status = 401; e.problem = null; e.retryable = false; return Promise.reject(e)`,
			"lane-token-revoked", 401, false},
		{"throws a PayrocError", `const e = new Error("till closed"); e.name = "PayrocError"; e.code = "till-closed";
			e.status = 0; throw e`, "till-closed", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePayroc()
			f.token = "lane-token-2"
			api, store := newTestAPI(t, f, config{GetToken: jsFunc("", tc.src)})
			e := rejectedErr(t, api.Call("submit", validRequest))
			require.Equal(t, tc.code, e.Code, "the rejection's code (%s)", e.Message)
			assert.Equal(t, tc.status, e.Status)
			assert.Equal(t, tc.retryable, e.Retryable)
			recs, err := store.List()
			require.NoError(t, err)
			assert.Empty(t, recs, "a refused submit must leave no record")
		})
	}
}

func TestNewIdempotencyKey(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(), config{})
	seen := map[string]bool{}
	for range 100 {
		v := api.Call("newIdempotencyKey")
		require.Equal(t, js.TypeString, v.Type(), "newIdempotencyKey returns a string, synchronously")
		require.NoError(t, isKey(v.String()))
		require.False(t, seen[v.String()], "a repeated key")
		seen[v.String()] = true
	}
}

func TestOnStatusThatThrowsDoesNotBreakTheRefund(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(payroc.StatusCompleted), config{})
	throwing := jsFunc("s", `throw new Error("page bug")`)
	var res payroc.RefundResult
	resolved(t, api.Call("refund", validRequest, opts("onStatus", throwing)), &res)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "result %+v", res)
	e := rejectedErr(t, api.Call("refund", validRequest, opts("onStatus", 5)))
	require.Equal(t, payroc.CodeInvalidRequest, e.Code, "onStatus: 5 gave %+v", e)
}

// A key enters the module in either case and is one key: the upper-case spelling of a recorded refund's
// key resumes and forgets that refund, and the instruction it resubmits carries the canonical spelling.
func TestKeysAreCanonicalWhereTheyEnter(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	api, store := newTestAPI(t, f, config{})
	const key, upper = "8e03978e-40d5-43e8-bc93-6894a57f9324", "8E03978E-40D5-43E8-BC93-6894A57F9324"
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest, opts("idempotencyKey", upper)), &inst)
	require.Equal(t, key, inst.IdempotencyKey, "submit answers the canonical key")
	require.Equal(t, key, f.requests[len(f.requests)-1].Header.Get("idempotency-key"), "and sends it")

	_, err := store.Begin(mustRefund(t, upper))
	require.NoError(t, err)
	recs, err := store.List()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, key, recs[0].IdempotencyKey, "the record is filed under the canonical key")
	got := resolved(t, api.Call("forget", upper), nil)
	require.Equal(t, "true", got, "forget by the upper-case spelling finds the record")
	e := rejectedErr(t, api.Call("forget", "not-a-key"))
	require.Equal(t, payroc.CodeInvalidRequest, e.Code, "a key that is not a UUID v4 is refused, not looked up")
}

func TestForget(t *testing.T) {
	api, store := newTestAPI(t, newFakePayroc(), config{})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	_, _ = store.Begin(mustRefund(t, key))
	got := resolved(t, api.Call("forget", key), nil)
	require.Equal(t, "true", got, "forget = %s", got)
	got = resolved(t, api.Call("forget", key), nil)
	require.Equal(t, "false", got, "second forget = %s", got)
}

func TestManyConcurrentCallsAllSettle(t *testing.T) {
	api, store := newTestAPI(t, newFakePayroc(payroc.StatusInProgress, payroc.StatusCompleted), config{})
	var ps []js.Value
	for range 20 {
		ps = append(ps, api.Call("refund", validRequest))
	}
	for _, p := range ps {
		var res payroc.RefundResult
		resolved(t, p, &res)
		require.Equal(t, payroc.OutcomeApproved, res.Outcome, "result %+v", res)
	}
	recs, _ := store.List()
	require.Empty(t, recs, "records left %+v", recs)
}

func TestRefusedResubmitKeepsARecordWhoseInstructionExists(t *testing.T) {
	f := newFakePayroc()
	api, store := newTestAPI(t, f, config{})
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	f.before = func(*payroc.Request) (*payroc.Response, error, bool) {
		return problem(409, payroc.CodeDeviceBusy), nil, true
	}
	rejectedErr(t, api.Call("submit", validRequest, opts("idempotencyKey", inst.IdempotencyKey)))
	rec, _ := store.Get(inst.IdempotencyKey)
	require.NotNil(t, rec, "record %+v: an existing instruction lost its record", rec)
	require.Equal(t, inst.RefundInstructionID, rec.RefundInstructionID, "record %+v: an existing instruction lost its record", rec)
}

// A record that existed before the call stands for an earlier submit whose answer nobody saw (here: the
// network failed). A refusal of the resubmit proves nothing about that earlier attempt, so the record stays
// for resume or for the cashier to settle.
func TestRefusedResubmitKeepsTheRecordOfAnUnansweredSubmit(t *testing.T) {
	for _, code := range []string{payroc.CodeDeviceBusy, payroc.CodeOutOfScope, payroc.CodeLaneTokenExpired, payroc.CodeBadRequest} {
		t.Run(code, func(t *testing.T) {
			f := newFakePayroc(payroc.StatusCompleted)
			var answer func() (*payroc.Response, error)
			f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
				if req.Method != "POST" {
					return nil, nil, false
				}
				res, err := answer()
				return res, err, true
			}
			api, store := newTestAPI(t, f, config{})
			const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
			answer = func() (*payroc.Response, error) { return nil, errors.New("TypeError: Failed to fetch") }
			e := rejectedErr(t, api.Call("refund", validRequest, opts("idempotencyKey", key)))
			require.Equal(t, payroc.CodeNetworkError, e.Code, "first attempt: %+v", e)
			answer = func() (*payroc.Response, error) { return problem(payroc.StatusForCode(code), code), nil }
			for _, call := range []func() js.Value{
				func() js.Value { return api.Call("resume", key) },
				func() js.Value { return api.Call("refund", validRequest, opts("idempotencyKey", key)) },
				func() js.Value { return api.Call("submit", validRequest, opts("idempotencyKey", key)) },
			} {
				e := rejectedErr(t, call())
				require.Equal(t, code, e.Code, "resubmit: %+v", e)
				rec, _ := store.Get(key)
				require.NotNil(t, rec, "a %s answer to a resubmit dropped the record of a submit that may have reached the device", code)
			}
		})
	}
}

// Payroc's 409 idempotency-key-in-use means the key is being processed: an instruction may exist, so the
// record stays (as with two tabs resuming one refund at once).
func TestIdempotencyKeyInUseKeepsTheRecord(t *testing.T) {
	f := newFakePayroc()
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		return problem(409, payroc.CodeIdempotencyKeyInUse), nil, true
	}
	api, store := newTestAPI(t, f, config{})
	for _, fn := range []string{"submit", "refund"} {
		const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
		e := rejectedErr(t, api.Call(fn, validRequest, opts("idempotencyKey", key)))
		require.Equal(t, payroc.CodeIdempotencyKeyInUse, e.Code, "%s: %+v", fn, e)
		rec, _ := store.Get(key)
		require.NotNil(t, rec, "%s: idempotency-key-in-use dropped the record", fn)
	}
}

// forgetfulProxy makes the fake answer 404 for instructions from the moment forget is set until the next
// submit, as a proxy that restarted does until the page replays its submit with the same key.
func forgetfulProxy(f *fakePayroc, forgetAfterGETs int) {
	gets, forgotten := 0, false
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch req.Method {
		case "POST":
			forgotten = false
		case "GET":
			gets++
			if gets > forgetAfterGETs && gets <= forgetAfterGETs+1 {
				forgotten = true
			}
			if forgotten {
				return problem(404, payroc.CodeNotFound), nil, true
			}
		}
		return nil, nil, false
	}
}

func TestRefundGoesOnWhenTheProxyForgetsTheInstruction(t *testing.T) {
	tests := []struct {
		name   string
		resume bool // resume a recorded instruction instead of a new refund
		after  int  // status GETs the proxy answers before it forgets
	}{
		{"new refund, forgotten at the first status GET", false, 0},
		{"new refund, forgotten after one status", false, 1},
		{"resume, forgotten after one status", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakePayroc(payroc.StatusInProgress, payroc.StatusInProgress, payroc.StatusCompleted)
			api, store := newTestAPI(t, f, config{})
			const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
			var p js.Value
			rec := newStatusRecorder(t)
			if tt.resume {
				var inst payroc.RefundInstruction
				resolved(t, api.Call("submit", validRequest, opts("idempotencyKey", key)), &inst)
				forgetfulProxy(f, tt.after)
				p = api.Call("resume", key, opts("onStatus", rec.fn))
			} else {
				forgetfulProxy(f, tt.after)
				p = api.Call("refund", validRequest, opts("idempotencyKey", key, "onStatus", rec.fn))
			}
			var res payroc.RefundResult
			resolved(t, p, &res)
			require.Equal(t, payroc.OutcomeApproved, res.Outcome, "result %+v", res)
			got := rec.statuses()
			require.True(t, slices.Equal(got, []string{"inProgress", "completed"}))
			var bodies []string
			f.mu.Lock()
			for _, r := range f.requests {
				if r.Method == "POST" {
					assert.Equal(t, key, r.Header.Get("idempotency-key"), "a submit used key %q", r.Header.Get("idempotency-key"))
					bodies = append(bodies, string(r.Body))
				}
			}
			f.mu.Unlock()
			require.Len(t, bodies, 2)
			require.Equal(t, bodies[1], bodies[0])
			recs, _ := store.List()
			require.Empty(t, recs, "records left %+v", recs)
		})
	}
}

// richRequest uses every optional part of Payroc's body, so a replay that changed any of it (a dropped
// false, an empty object, an order of members) would show.
const richRequest = `{"serialNumber":"1850010868","processingTerminalId":"1234001",` +
	`"order":{"orderId":"ORDER-1001","description":"Refund for order ORDER-1001","amount":4999,"currency":"USD"},` +
	`"operator":"cashier-1","customer":{"referenceNumber":"REF-1","notificationLanguage":"en",` +
	`"billingAddress":{"address1":"1 Main St","city":"Springfield","state":"IL","country":"US","postalCode":"62701"},` +
	`"contactMethods":[{"type":"email","value":"cashier-1@example.com"}]},` +
	`"ipAddress":{"type":"ipv4","value":"192.0.2.1"},` +
	`"customizationOptions":{"entryMethod":"deviceRead","ebtDetails":{"benefitCategory":"cash","withdrawal":false}}}`

// A resume after a reload replays the very bytes of the original submit under the same key: Payroc replays
// an instruction only for the same key and body.
func TestResumeReplaysTheSameBodyFromTheRecord(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	offline := true
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		if offline {
			return nil, errors.New("TypeError: Failed to fetch"), true
		}
		return nil, nil, false
	}
	storage := &pending.MemoryStorage{}
	api, _ := newTestAPI(t, f, config{Storage: storage})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	rejectedErr(t, api.Call("refund", richRequest, opts("idempotencyKey", key)))

	// A reload: a new module over the same storage.
	offline = false
	api2, _ := newTestAPI(t, f, config{Storage: storage})
	var res payroc.RefundResult
	resolved(t, api2.Call("resume", key), &res)
	f.mu.Lock()
	defer f.mu.Unlock()
	var bodies []string
	for _, r := range f.requests {
		if r.Method == "POST" {
			require.Equal(t, key, r.Header.Get("idempotency-key"), "a submit used key %q", r.Header.Get("idempotency-key"))
			bodies = append(bodies, string(r.Body))
		}
	}
	require.Len(t, bodies, fastRetry.MaxAttempts+1)
	for _, b := range bodies[1:] {
		require.Equal(t, bodies[0], b, "the replay sent\n%s\nthe original\n%s", b, bodies[0])
	}
	require.Contains(t, bodies[0], `"withdrawal":false`, "body %s", bodies[0])
	require.NotContains(t, bodies[0], "serialNumber", "body %s", bodies[0])
}
