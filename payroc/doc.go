// Package payroc is a small client for Payroc Cloud unreferenced refunds on a payment device: the identity
// exchange (API key → bearer), the four refund endpoints, the long-poll watch loop, idempotent retries, and the
// wire types and problem-details errors they speak.
//
// The same package runs on the host (the proxy, tests, users' programs) and in the browser (GOOS=js
// GOARCH=wasm). It therefore never imports net/http in what the wasm build compiles: every request goes through
// the small [Doer] seam, with request and response types of its own. On the host, [HTTPDoer] adapts net/http;
// the wasm build supplies a fetch-based Doer. The protocol logic tests without a network.
//
// A refund runs as: [Client.Submit] (202, status inProgress) → [Client.Watch] (long-poll GETs until completed,
// failure or canceled) → [Client.Refund] (the processor's answer). [Client.RunRefund] does all three and maps
// the result to an [Outcome]. A submit is only ever retried with its original Idempotency-Key, so a lost answer
// never makes a second refund.
package payroc
