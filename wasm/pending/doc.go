// Package pending keeps a browser's refunds exactly once across reloads: the record of every refund made
// before its first byte is sent, the instruction id the moment it arrives, and the rule for when a record
// may go. It is the logic of the browser module (wasm/) without syscall/js, so it builds and is tested on
// the host, under -race; the module supplies localStorage as its Storage.
package pending
