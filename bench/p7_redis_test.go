package bench

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc/sim"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
)

// BenchmarkP7RedisState is P3 at 16 clients with the proxy's state on a local redis-server (-state redis: one
// Lua script per state call, two per submit, one per status GET and one more when it is final), in the same
// alternating rounds as two baselines: the bare ReverseProxy, and a ceiling, the same bare ReverseProxy plus a
// no-op script through go-redis before each request, after each submit and after each final status (the
// round trips the store's rules require, doing nothing). proxy ÷ ceiling is the cost of the proxy's own work,
// state included; ceiling ÷ bare is what the round trips alone cost on this machine. It also reports the Redis
// server's CPU time per submit + GET on each side (INFO cpu) and Redis's own time per script (SLOWLOG, over a
// sample round after the timed ones). Targets: proxy ÷ ceiling p50 ≤ 1.10×, p99 ≤ 1.25×, throughput ≥ 0.90×;
// redis-server CPU ≤ 100 µs per submit + GET.
func BenchmarkP7RedisState(b *testing.B) {
	const devPerWkr, workers = 4, 16
	up := startSim(b, sim.Config{Delay: time.Nanosecond, Hold: 10 * time.Second, Timeout: time.Minute,
		ExtraDevices: workers * devPerWkr, MaxInstructions: 40_000}, nil)
	cfg := proxyConfig(up, randomHex(32), nil)
	rs, _ := withRedis(b, &cfg, "p7:")
	st := &p3Stack{up: up, px: startProxy(b, cfg, nil), serials: up.serials(2, workers*devPerWkr), devPerWkr: devPerWkr}
	ceiling := startCeiling(b, up, rs.URL())
	hc := st.httpClient(b, workers)
	sides := []p3Side{st.proxySide(b, hc, workers), st.bareSide(hc, "bare", startBare(b, up), workers),
		st.bareSide(hc, "ceiling", ceiling, workers)}
	m := newRedisMeter(b, rs.URL())
	t := st.alternate(b, sides, workers, p3Rounds, p3Ops, m.measure)
	perScript := m.perScript(func() {
		_, _, err := st.round(sides[0], workers, 1000, st.up.terminal(st.serials[0]))
		require.NoError(b, err)
	}, cfg.State.(*redisstate.State).ScriptNames())
	vsCeiling, vsBare, ceilVsBare := compare(t["proxy"], t["ceiling"]), compare(t["proxy"], t["bare"]), compare(t["ceiling"], t["bare"])
	figure(fmt.Sprintf("P7 Redis state, %d clients", workers), "proxy ÷ ceiling %s; proxy ÷ bare %s; ceiling ÷ bare %s (%s, "+
		"ceiling p50 %s p99 %s %.0f/s; pooled over %d ops per side in %d alternating rounds) target proxy ÷ ceiling "+
		"p50<=1.10x p99<=1.25x thr>=0.90x: %s", vsCeiling.ratios(), vsBare.ratios(), ceilVsBare.ratios(),
		vsBare.absolute("proxy", "bare"), fmtDur(vsCeiling.P50B), fmtDur(vsCeiling.P99B), vsCeiling.RateB,
		vsCeiling.opsPerSide(), vsCeiling.rounds, verdict(vsCeiling.meets(1.10, 1.25, 0.90)))
	px, ceil := m.perOp("proxy", vsCeiling.opsPerSide()), m.perOp("ceiling", vsCeiling.opsPerSide())
	figure("P7 redis-server CPU", "%s per submit+get with the proxy's scripts (%.1f scripts, %s in them per op; %s), "+
		"%s with the ceiling's no-op scripts (%.1f per op, %s in them) target <=100µs: %s",
		fmtDur(px.cpu), px.calls, fmtDur(px.usec), perScript, fmtDur(ceil.cpu), ceil.calls, fmtDur(ceil.usec),
		verdict(px.cpu <= 100*time.Microsecond))
}

// startCeiling serves the ceiling in front of up on loopback: see ceilingProxy.
func startCeiling(b *testing.B, up *simStack, redisURL string) string {
	b.Helper()
	h, err := ceilingProxy(up.URL, redisURL)
	require.NoError(b, err)
	b.Cleanup(h.close)
	return loopback(b, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute})
}

// newRedisMeter measures the redis-server at url (see redisMeter); a failure to read it ends the benchmark.
func newRedisMeter(b *testing.B, url string) *redisMeter {
	opt, err := goredis.ParseURL(url)
	require.NoError(b, err)
	rdb := goredis.NewClient(opt)
	b.Cleanup(func() { _ = rdb.Close() })
	return &redisMeter{rdb: rdb, fatal: func(err error) { b.Fatal(err) }, sides: map[string]redistest.Info{}}
}
