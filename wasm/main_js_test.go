package main

import (
	"syscall/js"
	"testing"

	"github.com/posrefund/cloud/payroc"
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
	if !start(global, f, func() Storage { return newMemoryStorage() }) {
		t.Fatal("start refused a good boot object")
	}
	if !global.Get(bootName).IsUndefined() {
		t.Fatal("the boot object (with the token) is still on the global")
	}
	for _, name := range []string{"submit", "watch", "cancel", "getRefund", "refund", "pending", "resume", "forget"} {
		if got.Get(name).Type() != js.TypeFunction {
			t.Fatalf("%s is not a function", name)
		}
	}
	var res payroc.RefundResult
	resolved(t, got.Call("refund", validRequest), &res)
	if res.Outcome != payroc.OutcomeApproved || f.requests[0].URL != "https://pos.example/v1/devices/1850010868/refund-instructions" {
		t.Fatalf("result %+v, first request %s", res, f.requests[0].URL)
	}
}

func TestStartWithoutABootObjectRefuses(t *testing.T) {
	global := js.Global().Get("Object").New()
	if start(global, newFakePayroc(), func() Storage { return newMemoryStorage() }) {
		t.Fatal("start went ahead without load()'s boot object")
	}
}
