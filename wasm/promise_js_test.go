package main

import (
	"context"
	"errors"
	"syscall/js"
	"testing"

	"github.com/posrefund/cloud/payroc"
	"go.uber.org/goleak"
)

func TestMakePromiseResolvesWithTheResult(t *testing.T) {
	p := makePromise(js.Undefined(), func(context.Context) (string, error) { return `{"ok":true}`, nil })
	if got := resolved(t, p, nil); got != `{"ok":true}` {
		t.Fatalf("resolved with %q", got)
	}
}

func TestMakePromiseRejectsWithAPayrocErrorObject(t *testing.T) {
	p := makePromise(js.Undefined(), func(context.Context) (string, error) {
		return "", payroc.ParseProblem(409, payroc.Header{},
			[]byte(`{"type":"https://pos.example/errors#device-busy","title":"Device busy","status":409,"detail":"another refund is in flight"}`))
	})
	e := rejectedErr(t, p)
	if e.Code != "device-busy" || e.Status != 409 || e.Retryable || string(e.Problem) == "null" {
		t.Fatalf("got %+v", e)
	}
}

func TestMakePromiseRecoversPanics(t *testing.T) {
	tests := []struct {
		name  string
		panic any
	}{
		{"string", "boom"},
		{"error", errors.New("boom")},
		{"nil map", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := makePromise(js.Undefined(), func(context.Context) (string, error) {
				if tt.panic == nil {
					var m map[string]int
					//lint:ignore SA5000 the runtime panic is the case under test
					m["x"] = 1
				}
				panic(tt.panic)
			})
			if e := rejectedErr(t, p); e.Code != payroc.CodeInternalError || e.Status != 0 {
				t.Fatalf("got %+v", e)
			}
		})
	}
}

func TestEntryRecoversPanicsWhileReadingArguments(t *testing.T) {
	f := entry(func(args []js.Value) js.Value {
		_ = args[5].Get("x") // out of range: panics synchronously, inside the callback
		return js.Undefined()
	})
	defer f.Release()
	p := f.Invoke()
	if e := rejectedErr(t, p); e.Code != payroc.CodeInternalError {
		t.Fatalf("got %+v", e)
	}
	// The module is still alive: another call works.
	ok := makePromise(js.Undefined(), func(context.Context) (string, error) { return "1", nil })
	resolved(t, ok, nil)
}

func TestMakePromiseAbortRejectsWithTheSignalReasonAndStopsTheWork(t *testing.T) {
	ac := js.Global().Get("AbortController").New()
	stopped := make(chan error, 1)
	started := make(chan struct{})
	p := makePromise(ac.Get("signal"), func(ctx context.Context) (string, error) {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return "", ctx.Err()
	})
	<-started
	ac.Call("abort")
	v, rej := settle(t, p)
	if !rej {
		t.Fatal("resolved after abort")
	}
	if v.Get("name").String() != "AbortError" || !v.InstanceOf(js.Global().Get("DOMException")) {
		t.Fatalf("rejected with %s, want the signal's DOMException AbortError", jsonOf(v))
	}
	if !v.Equal(ac.Get("signal").Get("reason")) {
		t.Fatal("rejected with another value than signal.reason")
	}
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("work saw %v", err)
	}
}

func TestMakePromiseAlreadyAbortedSignalNeverRuns(t *testing.T) {
	ac := js.Global().Get("AbortController").New()
	ac.Call("abort", "custom reason")
	ran := false
	p := makePromise(ac.Get("signal"), func(context.Context) (string, error) { ran = true; return "", nil })
	v, rej := settle(t, p)
	if !rej || v.String() != "custom reason" {
		t.Fatalf("got %s rejected=%v", jsonOf(v), rej)
	}
	if ran {
		t.Fatal("work ran despite the aborted signal")
	}
}

func TestAwaitReturnsOnContextEndAndSurvivesLateSettlement(t *testing.T) {
	var resolve js.Value
	exec := js.FuncOf(func(_ js.Value, args []js.Value) any { resolve = args[0]; return nil })
	p := js.Global().Get("Promise").New(exec)
	exec.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := await(ctx, p); !errors.Is(err, context.Canceled) {
		t.Fatalf("await = %v", err)
	}
	resolve.Invoke("late") // must not call a released function (that would kill the program)
	if _, rej := settle(t, p); rej {
		t.Fatal("rejected")
	}
	// A value that is no promise at all is awaited as itself.
	v, err := await(context.Background(), js.ValueOf(7))
	if err != nil || v.Int() != 7 {
		t.Fatalf("await(7) = %v, %v", v, err)
	}
}

// Every call's goroutines end with it: the work, the abort listener, the fetch's AfterFunc, and the waits
// on promises that settle late.
func TestCallsLeaveNoGoroutinesBehind(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFakePayroc(payroc.StatusInProgress, payroc.StatusCompleted)
	api, _ := newTestAPI(t, f, config{})
	var res payroc.RefundResult
	resolved(t, api.Call("refund", validRequest), &res)
	rejectedErr(t, api.Call("submit", `{"serialNumber":"1850010868"}`))
	var inst payroc.RefundInstruction
	resolved(t, api.Call("submit", validRequest), &inst)
	ac := js.Global().Get("AbortController").New()
	p := api.Call("watch", inst.RefundInstructionID, opts("signal", ac.Get("signal")))
	ac.Call("abort")
	if _, rej := settle(t, p); !rej {
		t.Fatal("the aborted watch resolved")
	}
	resolved(t, api.Call("pending"), nil)
}
