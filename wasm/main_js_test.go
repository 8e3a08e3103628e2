package main

import (
	"syscall/js"
	"testing"

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
