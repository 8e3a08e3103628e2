package main

import (
	"context"
	"errors"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/posrefund/cloud/payroc"
)

func TestMakePromiseResolvesWithTheResult(t *testing.T) {
	p := makePromise(js.Undefined(), func(context.Context) (string, error) { return `{"ok":true}`, nil })
	got := resolved(t, p, nil)
	require.Equal(t, `{"ok":true}`, got, "resolved with %q", got)
}

func TestMakePromiseRejectsWithAPayrocErrorObject(t *testing.T) {
	p := makePromise(js.Undefined(), func(context.Context) (string, error) {
		return "", payroc.ParseProblem(409, payroc.Header{},
			[]byte(`{"type":"https://pos.example/errors#device-busy","title":"Device busy","status":409,"detail":"another refund is in flight"}`))
	})
	e := rejectedErr(t, p)
	require.Equal(t, "device-busy", e.Code)
	require.EqualValues(t, 409, e.Status)
	require.False(t, e.Retryable)
	require.NotEqual(t, "null", string(e.Problem))
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
			e := rejectedErr(t, p)
			require.Equal(t, payroc.CodeInternalError, e.Code)
			require.EqualValues(t, 0, e.Status)
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
	e := rejectedErr(t, p)
	require.Equal(t, payroc.CodeInternalError, e.Code)
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
	require.True(t, rej, "resolved after abort")
	require.Equal(t, "AbortError", v.Get("name").String())
	require.True(t, v.InstanceOf(js.Global().Get("DOMException")))
	require.True(t, v.Equal(ac.Get("signal").Get("reason")), "rejected with another value than signal.reason")
	err := <-stopped
	require.ErrorIs(t, err, context.Canceled, "work saw %v", err)
}

func TestMakePromiseAlreadyAbortedSignalNeverRuns(t *testing.T) {
	ac := js.Global().Get("AbortController").New()
	ac.Call("abort", "custom reason")
	ran := false
	p := makePromise(ac.Get("signal"), func(context.Context) (string, error) { ran = true; return "", nil })
	v, rej := settle(t, p)
	require.True(t, rej)
	require.Equal(t, "custom reason", v.String())
	require.False(t, ran, "work ran despite the aborted signal")
}

func TestAwaitReturnsOnContextEndAndSurvivesLateSettlement(t *testing.T) {
	var resolve js.Value
	exec := js.FuncOf(func(_ js.Value, args []js.Value) any { resolve = args[0]; return nil })
	p := js.Global().Get("Promise").New(exec)
	exec.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := await(ctx, p)
	require.ErrorIs(t, err, context.Canceled, "await = %v", err)
	resolve.Invoke("late") // must not call a released function (that would kill the program)
	_, rej := settle(t, p)
	require.False(t, rej, "rejected")
	// A value that is no promise at all is awaited as itself.
	v, err := await(context.Background(), js.ValueOf(7))
	require.NoError(t, err, "await(7) = %v, %v", v, err)
	require.EqualValues(t, 7, v.Int(), "await(7) = %v, %v", v, err)
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
	_, rej := settle(t, p)
	require.True(t, rej, "the aborted watch resolved")
	resolved(t, api.Call("pending"), nil)
}
