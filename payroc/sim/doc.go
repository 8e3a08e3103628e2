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
// # Endpoints
//
//   - POST /authorize (also /v1/authorize): only the x-api-key header counts (the body is ignored); 200
//     {"access_token","token_type":"Bearer","expires_in","scope"}; any other key is a 401 problem.
//   - POST /v1/devices/{serialNumber}/refund-instructions → 202; GET /v1/refund-instructions/{id} → 200
//     (a long-poll, held up to Config.Hold while inProgress, answered the moment the status changes);
//     DELETE /v1/refund-instructions/{id} → 204, or 409 cannot-be-canceled; GET /v1/refunds/{refundId} → 200.
//     The same paths also answer without /v1 (Payroc's SDKs with a single base URL drop it); links always
//     point under /v1 on the origin the request came in on.
//   - Errors are application/problem+json in Payroc's shape: 400 bad-request (errors[] names the fields,
//     including a path id outside the spec's lengths: serialNumber 1–64, refundInstructionId 1–36, refundId
//     exactly 10) and idempotency-key-missing, 401 not-authorized (bearer missing, invalid or expired), 404 not-found, 405,
//     406 not-acceptable (Accept excludes JSON), 409 idempotency-key-in-use and cannot-be-canceled (with the
//     refund link when completed), 415 unsupported-media-type, 503 when closed (every refund endpoint,
//     once Close has answered the held long-polls) or full.
//
// Devices: 1850010868 on terminal 1234001 and 1850010869 on 1234002, plus Config.ExtraDevices
// (1850020001, 1850020002, … on 1234001). A submit whose processingTerminalId is not the device's is a 400
// naming processingTerminalId. Several instructions may run on one device at once: Payroc does not publish a
// busy rule, and the proxy keeps its own per-device guard.
//
// Outcome by order.amount % 100:
//
//   - 1: completed after Delay, declined by the issuer (transactionResult status declined, responseCode D).
//   - 2: failure after Delay, with an errorMessage (device error).
//   - 3: no card is ever presented: inProgress until canceled, failure after Timeout.
//   - 4: approved, but only after more than one long-poll hold: a client polling at once always gets one
//     unchanged inProgress answer (the completion comes Delay after that first hold ran out, or Hold+Delay
//     after the submit when nobody polls).
//   - 5: cancel loses the race: inProgress until a DELETE arrives, at which moment the device completes
//     (approved) and the DELETE answers 409 with the refund link; failure after Timeout if never canceled.
//   - anything else: completed after Delay, approved (status ready, responseCode A, authorizedAmount
//     negative).
//
// Idempotency: the same Idempotency-Key with the same request (compared parsed, not byte for byte, and on
// the same device) answers 202 with the original instruction as it now stands; with another request it is a
// 409 idempotency-key-in-use. Concurrent duplicates make exactly one instruction. Finished instructions,
// their refunds and their keys are kept for Config.Retention (24h) and at most Config.MaxInstructions.
//
// # Test controls
//
// In Go: [Simulator.FailNext], [Simulator.DropNext], [Simulator.SetLatency], [Simulator.Finish],
// [Simulator.Reset], [Simulator.Stats], [Simulator.InstructionsFor], [Simulator.RefundsFor]. The same over
// HTTP under /sim/ on the simulator's own listener (no bearer; never expose it beyond tests). Routes are
// "submit", "get_instruction", "cancel_instruction", "get_refund", "identity", or "" / omitted for any of
// the four refund endpoints. Durations are strings such as "250ms" or numbers of milliseconds. Successful
// POSTs answer 204 unless noted; bad input is a 400 problem.
//
//	GET  /sim/stats[?key=K]   counters: identityCalls, tokensIssued, requests{route: n},
//	                          instructionsCreated, refundsCreated, instructionsByKey{key: n},
//	                          refundsByKey{key: n}, inProgress, stored, heldPolls, pendingFaults,
//	                          pendingDrops (with ?key= the ByKey maps hold only that key)
//	GET  /sim/devices         {"devices":[{"serialNumber","processingTerminalId","label"}]}
//	POST /sim/fail            {"status":503,"count":2,"route":"submit","retryAfter":"1s","code":"","detail":""}
//	                          the next count requests answer status with a problem document, unprocessed
//	                          (count defaults to 1; Retry-After defaults to 1s on 429 and 503)
//	POST /sim/drop            {"count":1,"route":"submit"}: the next count requests are processed and
//	                          recorded, then the connection is closed without an answer
//	POST /sim/latency         {"route":"get_refund","latency":"200ms"}: added before processing; 0 removes
//	POST /sim/finish          {"refundInstructionId":"…","status":"completed"|"failure"|"canceled"}: ends an
//	                          inProgress instruction now; 200 with the instruction (404 unknown, 409 not
//	                          inProgress)
//	POST /sim/reset           clears faults, drops and latencies and zeroes the counters
//
// [Simulator.Transport] serves the same handler in-process as an http.RoundTripper, with no listener.
//
// Logs (Config.Logger) are structured and never carry the API key, bearer tokens or cardholder details.
package sim
