// Package e2e is the end-to-end suite: the POS page and payroc.js/payroc.wasm in real headless Chromium,
// talking to the real proxy (proxy/server) in front of the Payroc Cloud simulator (payroc/sim), all started
// in-process by TestMain. Run it with `go test ./e2e/` (or `make test`); Chromium must be at
// /usr/bin/chromium (or $CHROMIUM) and the suite fails, never skips, when it is not.
//
// The reusable parts live in e2e/harness, for merchants who want to write their own chromedp tests.
package e2e
