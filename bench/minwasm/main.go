//go:build js && wasm

// Command minwasm is the smallest useful Go program for the browser: syscall/js and encoding/json, nothing
// else. The benchmarks build it with the same flags as payroc.wasm (P1 size baseline) and start it in a page
// (P2 start-up baseline). It is built at bench time and never committed as a binary.
package main

import (
	"encoding/json"
	"syscall/js"
)

func main() {
	// echo(json) decodes and re-encodes a JSON document, so encoding/json is really linked, as in the module.
	echo := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 {
			return js.Null()
		}
		var v any
		if err := json.Unmarshal([]byte(args[0].String()), &v); err != nil {
			return err.Error()
		}
		b, _ := json.Marshal(v)
		return string(b)
	})
	js.Global().Set("minEcho", echo)
	if ready := js.Global().Get("__minReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}
