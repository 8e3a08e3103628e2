package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"syscall/js"
	"testing"

	"github.com/posrefund/cloud/payroc"
)

func TestSubmitRecordsBeforeTheFirstByteAndReturnsTheInstruction(t *testing.T) {
	f := newFakePayroc()
	api, store := newTestAPI(t, f, config{})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	var recordAtSend *PendingRefund
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		if req.Method == "POST" {
			recordAtSend, _ = store.get(req.Header.Get("idempotency-key"))
		}
		return nil, nil, false
	}
	var inst map[string]any
	text := resolved(t, api.Call("submit", validRequest, opts("idempotencyKey", key)), &inst)
	if recordAtSend == nil || recordAtSend.Request.Order.Amount != 4999 || recordAtSend.RefundInstructionID != "" {
		t.Fatalf("record when the POST left: %+v", recordAtSend)
	}
	if inst["status"] != "inProgress" || inst["idempotencyKey"] != key || inst["refundInstructionId"] == "" {
		t.Fatalf("instruction %s", text)
	}
	if _, ok := inst["link"].(map[string]any); !ok {
		t.Fatalf("instruction lost Payroc's link: %s", text)
	}
	rec, _ := store.get(key)
	if rec == nil || rec.RefundInstructionID != inst["refundInstructionId"] || rec.Status != payroc.StatusInProgress {
		t.Fatalf("record after the 202: %+v", rec)
	}
	// The body on the wire is Payroc's, without serialNumber (that goes in the path).
	f.mu.Lock()
	body := string(f.requests[0].Body)
	url := f.requests[0].URL
	f.mu.Unlock()
	if strings.Contains(body, "serialNumber") || !strings.HasSuffix(url, "/devices/1850010868/refund-instructions") {
		t.Fatalf("sent %s %s", url, body)
	}
}

func TestSubmitGeneratesAKeyWhenNoneIsGiven(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(), config{})
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	if !payroc.IsUUIDv4(inst.IdempotencyKey) {
		t.Fatalf("key %q", inst.IdempotencyKey)
	}
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
			if e.Code != payroc.CodeInvalidRequest || e.Status != 0 || !strings.Contains(string(e.Problem), `"`+tt.field+`"`) {
				t.Fatalf("got %+v problem %s", e, e.Problem)
			}
			if recs, _ := store.list(); len(recs) != 0 || len(f.requests) != 0 {
				t.Fatalf("records %v, requests %d", recs, len(f.requests))
			}
		})
	}
}

func TestRefundApprovedResultShapeAndStatusOrder(t *testing.T) {
	f := newFakePayroc(payroc.StatusInProgress, payroc.StatusInProgress, payroc.StatusCompleted)
	api, store := newTestAPI(t, f, config{})
	rec := newStatusRecorder(t)
	var during []*PendingRefund
	rec.during = func(inst payroc.RefundInstruction) {
		r, _ := store.get(inst.IdempotencyKey)
		during = append(during, r)
	}
	var res map[string]json.RawMessage
	text := resolved(t, api.Call("refund", validRequest, opts("onStatus", rec.fn)), &res)

	if got := rec.statuses(); !slices.Equal(got, []string{"inProgress", "completed"}) {
		t.Fatalf("onStatus saw %v, want inProgress then completed, once each", got)
	}
	if during[0] == nil || during[0].RefundInstructionID == "" {
		t.Fatalf("the id was not recorded when it arrived: %+v", during[0])
	}
	var outcome string
	_ = json.Unmarshal(res["outcome"], &outcome)
	var inst payroc.RefundInstruction
	_ = json.Unmarshal(res["instruction"], &inst)
	var refund payroc.Refund
	_ = json.Unmarshal(res["refund"], &refund)
	if outcome != "approved" || inst.Status != payroc.StatusCompleted || inst.RefundID != "CD3HN88U9F" ||
		!payroc.IsUUIDv4(inst.IdempotencyKey) || refund.Card.CardNumber != "453985******7062" {
		t.Fatalf("result %s", text)
	}
	if recs, _ := store.list(); len(recs) != 0 {
		t.Fatalf("record left after the outcome was known: %+v", recs)
	}
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
			if string(res["outcome"]) != `"`+tt.outcome+`"` || (string(res["refund"]) != "null") == !tt.refund {
				t.Fatalf("result %s", text)
			}
			if recs, _ := store.list(); len(recs) != 0 {
				t.Fatalf("record left: %+v", recs)
			}
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
	if e.Code != payroc.CodeNetworkError || !e.Retryable {
		t.Fatalf("got %+v", e)
	}
	if f.submits() != fastRetry.MaxAttempts {
		t.Fatalf("%d submit attempts, want %d (retries with the same key)", f.submits(), fastRetry.MaxAttempts)
	}
	for _, r := range f.requests {
		if r.Header.Get("idempotency-key") != key {
			t.Fatalf("a retry used key %q", r.Header.Get("idempotency-key"))
		}
	}
	var pend []PendingRefund
	resolved(t, api.Call("pending"), &pend)
	if len(pend) != 1 || pend[0].IdempotencyKey != key || pend[0].Request.SerialNumber != "1850010868" || pend[0].UpdatedAt == "" {
		t.Fatalf("pending %+v", pend)
	}

	offline = false
	rec := newStatusRecorder(t)
	var res payroc.RefundResult
	resolved(t, api.Call("resume", key, opts("onStatus", rec.fn)), &res)
	if res.Outcome != payroc.OutcomeApproved || res.Instruction.IdempotencyKey != key {
		t.Fatalf("resume result %+v", res)
	}
	if got := rec.statuses(); !slices.Equal(got, []string{"inProgress", "completed"}) {
		t.Fatalf("onStatus saw %v", got)
	}
	resolved(t, api.Call("pending"), &pend)
	if len(pend) != 0 {
		t.Fatalf("pending after resume %+v", pend)
	}
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
	if f.submits() != 1 {
		t.Fatalf("%d submits, want 1: a known instruction is watched, not resubmitted", f.submits())
	}
	if res.Outcome != payroc.OutcomeApproved || res.Instruction.RefundInstructionID != inst.RefundInstructionID {
		t.Fatalf("result %+v", res)
	}
	if got := rec.statuses(); !slices.Equal(got, []string{"inProgress", "completed"}) {
		t.Fatalf("onStatus saw %v", got)
	}
	if recs, _ := store.list(); len(recs) != 0 {
		t.Fatalf("record left %+v", recs)
	}
}

func TestResumeResubmitsWithTheSameKeyWhenTheInstructionIsUnknown(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	api, store := newTestAPI(t, f, config{})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	if _, err := store.begin(key, mustRequest(t)); err != nil {
		t.Fatal(err)
	}
	_ = store.observe(key, &payroc.RefundInstruction{RefundInstructionID: "forgotten", Status: payroc.StatusInProgress}, false)
	var res payroc.RefundResult
	resolved(t, api.Call("resume", key), &res)
	if f.submits() != 1 || f.requests[len(f.requests)-1].Method != "GET" || res.Outcome != payroc.OutcomeApproved {
		t.Fatalf("submits %d, result %+v", f.submits(), res)
	}
	var post *payroc.Request
	for i := range f.requests {
		if f.requests[i].Method == "POST" {
			post = &f.requests[i]
		}
	}
	if post.Header.Get("idempotency-key") != key {
		t.Fatalf("resubmitted with key %q", post.Header.Get("idempotency-key"))
	}
}

func TestResumeOfAnUnknownKeyIsNotFound(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(), config{})
	e := rejectedErr(t, api.Call("resume", "8e03978e-40d5-43e8-bc93-6894a57f9324"))
	if e.Code != payroc.CodeNotFound || e.Status != 0 {
		t.Fatalf("got %+v", e)
	}
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
				if e.Code != code || e.Status != payroc.StatusForCode(code) || e.Retryable {
					t.Fatalf("%s: got %+v", fn, e)
				}
				if recs, _ := store.list(); len(recs) != 0 {
					t.Fatalf("%s: record kept after %s: %+v", fn, code, recs)
				}
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
		if recs, _ := store.list(); len(recs) != 1 {
			t.Fatalf("%d: records %+v, want the refund kept for resume", status, recs)
		}
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
	if got := rec.statuses(); !slices.Equal(got, []string{"inProgress", "failure"}) {
		t.Fatalf("onStatus saw %v", got)
	}
	if final.Status != payroc.StatusFailure || final.ErrorMessage == "" || final.IdempotencyKey != inst.IdempotencyKey {
		t.Fatalf("final %+v", final)
	}
	if recs, _ := store.list(); len(recs) != 0 {
		t.Fatalf("record left %+v", recs)
	}
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
	if !rej || v.Get("name").String() != "AbortError" {
		t.Fatalf("got %s", jsonOf(v))
	}
	for _, r := range f.requests {
		if r.Method == "DELETE" {
			t.Fatal("aborting sent a cancel to the device")
		}
	}
	if rec, _ := store.get(inst.IdempotencyKey); rec == nil {
		t.Fatal("aborting a watch dropped the pending record")
	}
}

func TestCancel(t *testing.T) {
	t.Run("won", func(t *testing.T) {
		f := newFakePayroc()
		api, store := newTestAPI(t, f, config{})
		var inst, got payroc.RefundInstruction
		resolved(t, api.Call("submit", validRequest), &inst)
		resolved(t, api.Call("cancel", inst.RefundInstructionID), &got)
		if got.Status != payroc.StatusCanceled || got.IdempotencyKey != inst.IdempotencyKey {
			t.Fatalf("got %+v", got)
		}
		if recs, _ := store.list(); len(recs) != 0 {
			t.Fatalf("record left %+v", recs)
		}
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
		if got.Status != payroc.StatusCompleted || got.RefundID != "M2MJOG6O2Y" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		api, _ := newTestAPI(t, newFakePayroc(), config{})
		if e := rejectedErr(t, api.Call("cancel", "nope")); e.Code != payroc.CodeNotFound || e.Status != 404 {
			t.Fatalf("got %+v", e)
		}
	})
	t.Run("no id", func(t *testing.T) {
		api, _ := newTestAPI(t, newFakePayroc(), config{})
		if e := rejectedErr(t, api.Call("cancel")); e.Code != payroc.CodeInvalidRequest {
			t.Fatalf("got %+v", e)
		}
	})
}

func TestGetRefund(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(), config{})
	var r payroc.Refund
	text := resolved(t, api.Call("getRefund", "CD3HN88U9F"), &r)
	if r.RefundID != "CD3HN88U9F" || r.TransactionResult.AuthorizedAmount == nil || *r.TransactionResult.AuthorizedAmount != -4999 {
		t.Fatalf("refund %s", text)
	}
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
	if calls != 1 || f.submits() != 2 {
		t.Fatalf("getToken called %d times, %d submits; want 1 and 2 (one replay)", calls, f.submits())
	}
	// Later calls use the new token without asking again.
	resolved(t, api.Call("getRefund", "CD3HN88U9F"), nil)
	if calls != 1 {
		t.Fatalf("getToken called %d times", calls)
	}
}

func TestExpiredLaneTokenWithoutRenewalRejects(t *testing.T) {
	f := newFakePayroc()
	f.token = "lane-token-2"
	failing := jsFunc("", `return Promise.reject(new Error("signed out"))`)
	api, store := newTestAPI(t, f, config{GetToken: failing})
	e := rejectedErr(t, api.Call("submit", validRequest))
	if e.Code != payroc.CodeLaneTokenExpired || e.Status != 401 {
		t.Fatalf("got %+v", e)
	}
	if recs, _ := store.list(); len(recs) != 0 {
		t.Fatalf("a refused submit left a record: %+v", recs)
	}
}

func TestOnStatusThatThrowsDoesNotBreakTheRefund(t *testing.T) {
	api, _ := newTestAPI(t, newFakePayroc(payroc.StatusCompleted), config{})
	throwing := jsFunc("s", `throw new Error("page bug")`)
	var res payroc.RefundResult
	resolved(t, api.Call("refund", validRequest, opts("onStatus", throwing)), &res)
	if res.Outcome != payroc.OutcomeApproved {
		t.Fatalf("result %+v", res)
	}
	if e := rejectedErr(t, api.Call("refund", validRequest, opts("onStatus", 5))); e.Code != payroc.CodeInvalidRequest {
		t.Fatalf("onStatus: 5 gave %+v", e)
	}
}

func TestForget(t *testing.T) {
	api, store := newTestAPI(t, newFakePayroc(), config{})
	const key = "8e03978e-40d5-43e8-bc93-6894a57f9324"
	_, _ = store.begin(key, mustRequest(t))
	if got := resolved(t, api.Call("forget", key), nil); got != "true" {
		t.Fatalf("forget = %s", got)
	}
	if got := resolved(t, api.Call("forget", key), nil); got != "false" {
		t.Fatalf("second forget = %s", got)
	}
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
		if res.Outcome != payroc.OutcomeApproved {
			t.Fatalf("result %+v", res)
		}
	}
	if recs, _ := store.list(); len(recs) != 0 {
		t.Fatalf("records left %+v", recs)
	}
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
	if rec, _ := store.get(inst.IdempotencyKey); rec == nil || rec.RefundInstructionID != inst.RefundInstructionID {
		t.Fatalf("record %+v: an existing instruction lost its record", rec)
	}
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
			if e := rejectedErr(t, api.Call("refund", validRequest, opts("idempotencyKey", key))); e.Code != payroc.CodeNetworkError {
				t.Fatalf("first attempt: %+v", e)
			}
			answer = func() (*payroc.Response, error) { return problem(payroc.StatusForCode(code), code), nil }
			for _, call := range []func() js.Value{
				func() js.Value { return api.Call("resume", key) },
				func() js.Value { return api.Call("refund", validRequest, opts("idempotencyKey", key)) },
				func() js.Value { return api.Call("submit", validRequest, opts("idempotencyKey", key)) },
			} {
				if e := rejectedErr(t, call()); e.Code != code {
					t.Fatalf("resubmit: %+v", e)
				}
				if rec, _ := store.get(key); rec == nil {
					t.Fatalf("a %s answer to a resubmit dropped the record of a submit that may have reached the device", code)
				}
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
		if e := rejectedErr(t, api.Call(fn, validRequest, opts("idempotencyKey", key))); e.Code != payroc.CodeIdempotencyKeyInUse {
			t.Fatalf("%s: %+v", fn, e)
		}
		if rec, _ := store.get(key); rec == nil {
			t.Fatalf("%s: idempotency-key-in-use dropped the record", fn)
		}
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
			if res.Outcome != payroc.OutcomeApproved {
				t.Fatalf("result %+v", res)
			}
			if got := rec.statuses(); !slices.Equal(got, []string{"inProgress", "completed"}) {
				t.Fatalf("onStatus saw %v, want inProgress then completed, once each", got)
			}
			var bodies []string
			f.mu.Lock()
			for _, r := range f.requests {
				if r.Method == "POST" {
					if r.Header.Get("idempotency-key") != key {
						t.Errorf("a submit used key %q", r.Header.Get("idempotency-key"))
					}
					bodies = append(bodies, string(r.Body))
				}
			}
			f.mu.Unlock()
			if len(bodies) != 2 || bodies[0] != bodies[1] {
				t.Fatalf("submits %q: want the original and one replay of the same body", bodies)
			}
			if recs, _ := store.list(); len(recs) != 0 {
				t.Fatalf("records left %+v", recs)
			}
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
	storage := newMemoryStorage()
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
			if r.Header.Get("idempotency-key") != key {
				t.Fatalf("a submit used key %q", r.Header.Get("idempotency-key"))
			}
			bodies = append(bodies, string(r.Body))
		}
	}
	if len(bodies) != fastRetry.MaxAttempts+1 {
		t.Fatalf("%d submits, want %d", len(bodies), fastRetry.MaxAttempts+1)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("the replay sent\n%s\nthe original\n%s", b, bodies[0])
		}
	}
	if !strings.Contains(bodies[0], `"withdrawal":false`) || strings.Contains(bodies[0], "serialNumber") {
		t.Fatalf("body %s", bodies[0])
	}
}
