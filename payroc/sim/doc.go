// Package sim is an in-memory Payroc Cloud for tests and demos: the identity service and the four refund
// endpoints, as one http.Handler that behaves like Payroc per the wire contract, so the payroc client, the
// proxy and Payroc's own SDKs can be pointed at it. Nothing leaves the process.
//
//	s := sim.New(sim.Config{Delay: 10 * time.Millisecond, Hold: 200 * time.Millisecond})
//	defer s.Close()
//	srv := httptest.NewServer(s)
//	defer srv.Close()
//	// identity: srv.URL (POST /authorize, x-api-key: sim.DefaultAPIKey); API: srv.URL + "/v1"
//
// The README's section "The simulator" is its manual: devices, the outcome each order amount scripts
// (order.amount % 100), idempotency, and the test controls, in Go ([Simulator.FailNext] and its siblings)
// and over HTTP under /sim/. [Simulator.Transport] serves the same handler in-process, with no listener.
//
// # Wire behaviours the README does not list
//
// A client written against the simulator meets these, so they are kept as Payroc's contract has them:
//
//   - The refund endpoints check, in this order: closed (503), the bearer (401), Accept (406
//     not-acceptable unless it allows application/json, application/problem+json, application/* or */*, a
//     q=0 excluding it; no Accept allows anything), then the path id's length (400 bad-request naming the
//     parameter: serialNumber 1–64, refundInstructionId 1–36, refundId exactly 10 characters), because
//     Payroc validates an id before looking it up, so such an id is a bad request, not a 404.
//   - 503 service-unavailable when closed: after [Simulator.Close] every refund endpoint answers 503 (held
//     long-polls are answered at once when it closes); the controls still answer. Also 503, with
//     Retry-After 1s, for a submit when the simulator is full: Config.MaxInstructions (0: 100,000) are held
//     and every one is still in progress.
//   - Idempotency: a replay is compared parsed, not byte for byte (a retry that re-encodes the same request
//     is the same request), and on the same device: the same key with the same body on another serial is a
//     409 idempotency-key-in-use. Concurrent submits with one key make exactly one instruction: the key is
//     looked up and the instruction made under one lock.
//   - Memory: finished instructions, their refunds and their keys are forgotten after Config.Retention (0:
//     24h; Payroc publishes no window), and the oldest finished ones first beyond Config.MaxInstructions. A
//     replay of a forgotten key makes a new instruction.
//   - Links are absolute and always under /v1 on the origin the request came in on (its Host, https when
//     it came over TLS), also when the request itself came without /v1 as Payroc's SDKs send it.
package sim
