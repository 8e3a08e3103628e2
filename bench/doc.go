// Package bench holds the project's measured performance and reliability figures: `make bench` runs its
// benchmarks once each (go test -run '^$' -bench . -benchtime 1x ./bench/) and every benchmark prints one line,
// labelled as the README's figures table names them:
//
//   - P1 wasm size: raw, gzip and brotli bytes of web/payroc.wasm beside a minimal Go wasm (syscall/js +
//     encoding/json, ./bench/minwasm) built at bench time with the same flags and compressed by the same tool.
//   - P2 start-up: navigation to load() resolved in headless Chromium, median of several cold runs (a fresh
//     browser context each) and warm reloads, as a ratio to a page that starts the minimal wasm.
//   - P3 proxy cost: p50/p99 latency and throughput of submit + status GET at 16 and at 32 concurrent clients,
//     through the proxy vs through a bare httputil.ReverseProxy in front of the same simulator, alternating
//     rounds in the same run. The ratios pool every operation of each side over all rounds (the p99 a user
//     meets over all their requests), with the spread of the rounds' own ratios beside them.
//   - P7 Redis state: P3 at 16 clients with the proxy's state on a local redis-server (-state redis), in the
//     same rotating rounds as the bare ReverseProxy and a ceiling (that ReverseProxy plus a no-op Lua script
//     through go-redis before each request, after each submit and after each final status: the round trips
//     the store's rules require, doing nothing); proxy ÷ ceiling and proxy ÷ bare, the redis-server's CPU per
//     submit + GET on each side (INFO cpu, INFO commandstats) and Redis's time per script (SLOWLOG, over a
//     sample round after the timed ones). proxy/state/redis's BenchmarkRefundCycle is its unit: the four
//     state calls of one refund, one after another, with the redis-server's CPU per cycle.
//   - P4 long-polls: 10,000 concurrent watches held open through one proxy (in a child process, so its memory
//     is its own), all answered when their devices finish; memory per held watch vs the bare ReverseProxy.
//     PAYROC_BENCH_PROFILE=dir saves the front's heap and goroutine profiles at the peak.
//   - P5 token minting: identity calls while 1,000 concurrent requests run across token refreshes (the clock
//     jumps into each refresh window), and p99 latency inside the refresh window vs outside it.
//   - P6 status latency: from a simulated device finishing to onStatus in the page, vs one fetch round trip.
//   - R1 fault injection: hundreds of refunds, each with a random fault (connection reset before or after the
//     simulator recorded the request, 5xx, a 401 mid-flight, identity down for a while, a slow answer):
//     duplicates, lost outcomes and hung flows, all of which must be 0. Then again across two proxy
//     instances sharing one Redis behind a round-robin front, adding an instance kill and a Redis restart.
//   - R5 load: 200 concurrent full refund flows through proxy and simulator: errors (must be 0) and the time
//     taken, beside the same flows through the bare ReverseProxy.
//   - R2 fuzzing is printed by ./bench/cmd/fuzzrun (make fuzz, and a short round in make bench).
//
// Every timing is a ratio against a baseline measured in the same run, because the machines are shared and
// noisy. A benchmark fails (b.Fatal) only on correctness — a duplicate refund, a lost outcome, a hung flow, a
// leaked secret — never on a timing: targets are printed beside the figures, not asserted.
//
// Everything runs on loopback, with the simulator's extra devices, generous lane-token scopes and rate limits,
// compressed retry delays and short device timings. Plain `go test ./bench/` runs only the helpers' unit tests.
package bench
