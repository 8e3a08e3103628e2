package main

import (
	"context"
	"errors"
	"syscall/js"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
)

func mustRequest(t *testing.T) DeviceRefundRequest {
	t.Helper()
	r, err := parseRequest(validRequest)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPendingStoreRecordLifecycle(t *testing.T) {
	s := newPendingStore(newMemoryStorage())
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	const k1, k2 = "8e03978e-40d5-43e8-bc93-6894a57f9324", "9e03978e-40d5-43e8-bc93-6894a57f9324"
	req := mustRequest(t)

	for _, k := range []string{k1, k2} {
		if fresh, err := s.begin(k, req); err != nil || !fresh {
			t.Fatalf("begin(%s) = %v, %v; want a fresh record", k, fresh, err)
		}
	}
	recs, _ := s.list()
	if len(recs) != 2 || recs[0].IdempotencyKey != k1 || recs[0].RefundInstructionID != "" || recs[0].Request.SerialNumber != "1850010868" {
		t.Fatalf("after begin: %+v", recs)
	}

	// The id is recorded the moment it arrives; a resubmit with the same key keeps it.
	inst := &payroc.RefundInstruction{RefundInstructionID: "a37439165d134678a9100ebba3b29597", Status: payroc.StatusInProgress}
	if err := s.observe(k1, inst, true); err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.begin(k1, req); err != nil || fresh {
		t.Fatalf("begin again = %v, %v; want the existing record", fresh, err)
	}
	r, _ := s.get(k1)
	if r.RefundInstructionID != inst.RefundInstructionID || r.Status != payroc.StatusInProgress {
		t.Fatalf("record %+v", r)
	}
	if key, _ := s.keyOf(inst.RefundInstructionID); key != k1 {
		t.Fatalf("keyOf = %q", key)
	}

	// refund/resume keep a record at a final status until the result is read...
	done := &payroc.RefundInstruction{RefundInstructionID: inst.RefundInstructionID, Status: payroc.StatusCompleted}
	if err := s.observe(k1, done, false); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.get(k1); r == nil || r.Status != payroc.StatusCompleted {
		t.Fatalf("record after completed without removeFinal: %+v", r)
	}
	// ...submit/watch end it at the final status.
	if key, err := s.observeInstruction(done, true); err != nil || key != k1 {
		t.Fatalf("observeInstruction = %q, %v", key, err)
	}
	if r, _ := s.get(k1); r != nil {
		t.Fatalf("record survived its final status: %+v", r)
	}
	// An unknown instruction changes nothing.
	if key, err := s.observeInstruction(done, true); err != nil || key != "" {
		t.Fatalf("observeInstruction(unknown) = %q, %v", key, err)
	}
	recs, _ = s.list()
	if len(recs) != 1 || recs[0].IdempotencyKey != k2 {
		t.Fatalf("left %+v", recs)
	}
}

func TestPendingStoreSkipsForeignAndBrokenEntries(t *testing.T) {
	m := newMemoryStorage()
	_ = m.Set("other.app", "x")
	_ = m.Set(pendingPrefix+"broken", "{not json")
	s := newPendingStore(m)
	recs, err := s.list()
	if err != nil || len(recs) != 0 {
		t.Fatalf("list = %+v, %v", recs, err)
	}
	if v, ok, _ := m.Get(pendingPrefix + "broken"); !ok || v != "{not json" {
		t.Fatal("a broken entry was deleted")
	}
}

func TestRefusedOnlyWhenNothingCanHaveBeenCreated(t *testing.T) {
	answer := func(status int, code string) payroc.DoerFunc {
		return func(context.Context, *payroc.Request) (*payroc.Response, error) { return problem(status, code), nil }
	}
	netErr := payroc.DoerFunc(func(context.Context, *payroc.Request) (*payroc.Response, error) { return nil, errors.New("offline") })
	tests := []struct {
		name  string
		calls []payroc.Doer // one per attempt the tracker sees
		err   error
		want  bool
	}{
		{"nothing sent (aborted first)", nil, context.Canceled, true},
		{"device busy", []payroc.Doer{answer(409, payroc.CodeDeviceBusy)}, payroc.NewError(payroc.CodeDeviceBusy, ""), true},
		{"out of scope", []payroc.Doer{answer(403, payroc.CodeOutOfScope)}, payroc.NewError(payroc.CodeOutOfScope, ""), true},
		{"expired session", []payroc.Doer{answer(401, payroc.CodeLaneTokenExpired)}, payroc.NewError(payroc.CodeLaneTokenExpired, ""), true},
		{"rate limited (not processed)", []payroc.Doer{answer(429, payroc.CodeRateLimited)}, payroc.NewError(payroc.CodeRateLimited, ""), true},
		{"idempotency key in use", []payroc.Doer{answer(409, payroc.CodeIdempotencyKeyInUse)}, payroc.NewError(payroc.CodeIdempotencyKeyInUse, ""), false},
		{"a 409 without a problem", []payroc.Doer{answer(409, "conflict")}, payroc.ParseProblem(409, payroc.Header{}, nil), false},
		{"request timeout", []payroc.Doer{answer(408, "http-408")}, payroc.ParseProblem(408, payroc.Header{}, nil), false},
		{"upstream error", []payroc.Doer{answer(502, payroc.CodeUpstreamError)}, payroc.NewError(payroc.CodeUpstreamError, ""), false},
		{"network error", []payroc.Doer{netErr}, &payroc.Error{Code: payroc.CodeNetworkError}, false},
		{"refusal after a lost attempt", []payroc.Doer{netErr, answer(401, payroc.CodeLaneTokenExpired)}, payroc.NewError(payroc.CodeLaneTokenExpired, ""), false},
		{"aborted mid-request", []payroc.Doer{netErr}, context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &tracker{}
			for _, d := range tt.calls {
				tr.next = d
				_, _ = tr.Do(context.Background(), &payroc.Request{})
			}
			if got := refused(tt.err, tr); got != tt.want {
				t.Fatalf("refused = %v, want %v", got, tt.want)
			}
		})
	}
}

// shimStorage is a localStorage look-alike written in JavaScript; failSet makes setItem throw as a full
// quota does.
func shimStorage(failSet bool) js.Value {
	return jsFunc("failSet", `
		const m = new Map();
		return {
			getItem: k => m.has(k) ? m.get(k) : null,
			setItem: (k, v) => { if (failSet) throw new DOMException("quota", "QuotaExceededError"); m.set(k, String(v)); },
			removeItem: k => { m.delete(k); },
			key: i => Array.from(m.keys())[i] ?? null,
			get length() { return m.size; },
		};`).Invoke(failSet)
}

func TestWebStorageOverALocalStorageObject(t *testing.T) {
	w := webStorage{shimStorage(false)}
	if err := w.Set(pendingPrefix+"a", "1"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := w.Get(pendingPrefix + "a"); v != "1" || !ok || err != nil {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
	if _, ok, _ := w.Get("missing"); ok {
		t.Fatal("missing key found")
	}
	keys, err := w.Keys()
	if err != nil || len(keys) != 1 || keys[0] != pendingPrefix+"a" {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	if err := w.Remove(pendingPrefix + "a"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := w.Keys(); len(keys) != 0 {
		t.Fatalf("after Remove: %v", keys)
	}
	if err := (webStorage{shimStorage(true)}).Set("k", "v"); err == nil {
		t.Fatal("a throwing setItem gave no error")
	}
}

func TestRefundIsNotSentWhenItCannotBeRecorded(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	api, _ := newTestAPI(t, f, config{Storage: webStorage{shimStorage(true)}})
	e := rejectedErr(t, api.Call("refund", validRequest))
	if e.Code != payroc.CodeInternalError {
		t.Fatalf("got %+v", e)
	}
	if len(f.requests) != 0 {
		t.Fatalf("%d requests sent although the record could not be written", len(f.requests))
	}
}
