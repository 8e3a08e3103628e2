// Command wasm is the browser half of the POS: a Go WebAssembly module exposing promise-returning
// JavaScript functions (submit, watch, cancel, getRefund, refund, pending, resume, forget, newIdempotencyKey)
// over the payroc package.
// It is glue only: promises, AbortSignal, callbacks, error objects, localStorage records and the fetch
// transport. web/payroc.js loads it; build it with `make wasm`.
//
// Start-up handshake: payroc.js puts {baseURL, token, getToken, onConnection, ready} in globalThis.__payrocBoot and runs
// the module; main reads and removes it, builds the API and hands it to ready(api). The program then stays
// alive for the life of the page, serving calls.
package main

import (
	"syscall/js"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/connection"
	"github.com/posrefund/cloud/wasm/pending"
)

const bootName = "__payrocBoot"

func main() {
	if !start(js.Global(), fetchDoer{}, browserStorage) {
		return // the exit makes load() reject
	}
	select {} // serve calls until the page goes away
}

// start reads and removes the boot object from global, builds the API and hands it to boot.ready. It
// reports whether the handshake happened.
func start(global js.Value, doer payroc.Doer, storage func() pending.Storage) bool {
	boot := global.Get(bootName)
	if boot.Type() != js.TypeObject || boot.Get("ready").Type() != js.TypeFunction {
		consoleError("payroc: start this module with load() from payroc.js")
		return false
	}
	global.Delete(bootName) // the token does not linger on a global
	cfg := config{
		BaseURL:  stringOr(boot.Get("baseURL"), ""),
		Token:    stringOr(boot.Get("token"), ""),
		GetToken: boot.Get("getToken"),
		Doer:     watchConnection(doer, boot.Get("onConnection")),
		Storage:  storage(),
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = global.Get("location").Get("origin").String()
	}
	boot.Call("ready", newAPI(cfg).object())
	return true
}

func stringOr(v js.Value, def string) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	return def
}

// watchConnection wraps doer so that load()'s onConnection(state, since) hears when calls to the proxy start
// failing and when they get through again (payroc.js turns the two arguments into the page's object and
// keeps the page's exceptions from reaching here). Without onConnection the doer is used as it is.
func watchConnection(doer payroc.Doer, onConnection js.Value) payroc.Doer {
	if onConnection.Type() != js.TypeFunction {
		return doer
	}
	return &connection.Watcher{Next: doer, OnChange: func(state connection.State, since time.Time) {
		if err := catch(func() { onConnection.Invoke(string(state), since.UnixMilli()) }); err != nil {
			consoleError("payroc: onConnection: " + err.Error())
		}
	}}
}
