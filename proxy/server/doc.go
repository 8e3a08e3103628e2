// Package server is the Payroc Cloud refunds proxy as an importable http.Handler: the API key stays here,
// browsers show lane tokens, and exactly four refund calls are forwarded to Payroc (or to the simulator).
//
// proxy/main.go only turns flags and the environment into a Config; tests, the end-to-end suite and users'
// own programs build the same Server in-process (see the example on New).
//
// What a request meets, in order (the first refusal answers, and nothing reaches Payroc):
//
//   - every request: a body must arrive in full within Config.BodyTimeout (408 request-timeout, connection
//     closed); an HTTP/1 request with Transfer-Encoding is refused and its connection closed (a request
//     framed two ways is how requests are smuggled); outside simulator mode a Host the proxy is not
//     configured for is 421 misdirected-request (screen.go).
//   - /v1/...: CORS (same-origin unless Config.AllowOrigins), the allowlist of the four routes at their exact
//     paths (404/405 problems otherwise), http.CrossOriginProtection on POST and DELETE, the lane token (401
//     lane-token-missing/-invalid/-expired/-revoked), the per-token rate limit (429 rate-limited), the body limit
//     (413). A submit is then decoded strictly (internal/strict, json v2) and validated (400 bad-request naming
//     each field; Payroc's own 400 idempotency-key-missing without a key), checked against the token's scope
//     and Config.MaxAmount (403 out-of-scope), held against the device's in-flight guard (409 device-busy,
//     a replay with the same key passes), and only then forwarded, as checked and encoded afresh, with a
//     header allowlist and a minted Payroc bearer. Instructions and refunds answer only for the lane that made them (404 otherwise).
//   - Payroc's answers pass through with link.href rewritten to the proxy's origin; a status GET is a
//     long-poll whose write deadline is extended, and which is cancelled upstream when the browser leaves.
//   - GET /lane, GET /dev/token (Config.Simulate), POST /admin/lane-tokens (Config.AdminKey), GET /healthz,
//     /readyz and /metrics; everything else is a static file of Config.WebDir.
//
// On Serve's context ending (SIGTERM) the proxy leaves over Config.ShutdownGrace: /readyz not ready at once,
// open long-polls answered with the current status, new requests still answered (leave.go).
//
// The state (the lane of each instruction, refund and Idempotency-Key, the device guards, the rate buckets and
// the revoked tokens) sits behind the state.State interface: state.Memory for one instance (the default), or
// proxy/state/redis for several instances behind any load balancer, with no stickiness (Config.State).
// Every entry expires. Each request's revocation and rate checks ride on its first state call, one round trip
// on Redis. A store that cannot be reached fails closed: 503 state-unavailable, nothing forwarded, /readyz not
// ready. With memory state, after a restart an instruction is unknown (404) until the page replays its submit
// with the same Idempotency-Key, and Payroc answers with the original instruction. The Payroc token cache and
// the per-lane cap on open long-polls stay per instance.
package server
