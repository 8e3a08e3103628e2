package main

import (
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

func TestStartHandsTheAPIToReadyAndRemovesTheBootObject(t *testing.T) {
	global := js.Global().Get("Object").New() // a stand-in for globalThis
	var got js.Value
	ready := js.FuncOf(func(_ js.Value, args []js.Value) any { got = args[0]; return nil })
	defer ready.Release()
	boot := opts("baseURL", "https://pos.example", "token", "lane-token-1", "ready", ready)
	global.Set(bootName, boot)
	f := newFakePayroc(payroc.StatusCompleted)
	f.token = "lane-token-1"
	require.True(t, start(global, f, func() pending.Storage { return &pending.MemoryStorage{} }), "start refused a good boot object")
	require.True(t, global.Get(bootName).IsUndefined(), "the boot object (with the token) is still on the global")
	for _, name := range []string{"submit", "watch", "cancel", "getRefund", "refund", "pending", "resume", "forget"} {
		require.Equal(t, js.TypeFunction, got.Get(name).Type(), "%s is not a function", name)
	}
	var res payroc.RefundResult
	resolved(t, got.Call("refund", validRequest), &res)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "result %+v, first request %s", res, f.requests[0].URL)
	require.Equal(t, "https://pos.example/v1/devices/1850010868/refund-instructions", f.requests[0].URL, "result %+v, first request %s", res, f.requests[0].URL)
}

func TestStartWithoutABootObjectRefuses(t *testing.T) {
	global := js.Global().Get("Object").New()
	require.False(t, start(global, newFakePayroc(), func() pending.Storage { return &pending.MemoryStorage{} }), "start went ahead without load()'s boot object")
}

// startWithConnection starts the module over f with onConnection set to fn, and returns its API.
func startWithConnection(t *testing.T, f *fakePayroc, fn js.Value) js.Value {
	t.Helper()
	global := js.Global().Get("Object").New()
	var got js.Value
	ready := js.FuncOf(func(_ js.Value, args []js.Value) any { got = args[0]; return nil })
	t.Cleanup(ready.Release)
	global.Set(bootName, opts("baseURL", "https://pos.example", "token", "lane-token-1", "ready", ready, "onConnection", fn))
	require.True(t, start(global, f, func() pending.Storage { return &pending.MemoryStorage{} }), "start refused a good boot object")
	return got
}

// failFirstSubmit makes f answer the first submit 503, as a proxy that cannot reach Payroc for a moment.
func failFirstSubmit(f *fakePayroc) {
	failed := false
	f.before = func(req *payroc.Request) (*payroc.Response, error, bool) {
		if failed || req.Method != "POST" {
			return nil, nil, false
		}
		failed = true
		return problem(503, payroc.CodeUpstreamError), nil, true
	}
}

func TestOnConnectionHearsTheTroubleAndTheRecovery(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	failFirstSubmit(f)
	var states []string
	var since []float64
	onConnection := js.FuncOf(func(_ js.Value, args []js.Value) any {
		states = append(states, args[0].String())
		since = append(since, args[1].Float())
		return nil
	})
	defer onConnection.Release()
	before := float64(time.Now().UnixMilli())
	api := startWithConnection(t, f, onConnection.Value)
	var res payroc.RefundResult
	resolved(t, api.Call("refund", validRequest), &res)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome, "the refund did not go through after the 503")
	require.Equal(t, []string{"retrying", "online"}, states, "onConnection should hear the 503 once, then the answer after it")
	require.GreaterOrEqual(t, since[0], before, "since is not the time of the change (ms since the epoch)")
	require.GreaterOrEqual(t, since[1], since[0])
}

func TestOnConnectionThatThrowsDoesNotStopTheRefund(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	failFirstSubmit(f)
	// A page's callback with a bug: it counts its calls, then throws.
	onConnection := js.Global().Get("Function").New("globalThis.__onConnectionCalls = (globalThis.__onConnectionCalls ?? 0) + 1; throw new Error('a bug in the page')")
	api := startWithConnection(t, f, onConnection)
	var res payroc.RefundResult
	resolved(t, api.Call("refund", validRequest), &res)
	require.Equal(t, payroc.OutcomeApproved, res.Outcome)
	require.Equal(t, 2, js.Global().Get("__onConnectionCalls").Int(), "onConnection was not called for each change")
}
