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
package sim
