//go:build js

package payroc

// defaultDoer is nil in the browser: the wasm module sets Client.Doer to its fetch transport.
func defaultDoer() Doer { return nil }
