package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// p3Op is one unit of P3: submit a refund and GET its status until final (the simulated device finishes at
// once, so normally one GET). It fails on anything but an approved, completed instruction.
func p3Op(ctx context.Context, c *payroc.Client, serial, terminal string, n int) error {
	inst, err := c.Submit(ctx, mustRefund(serial, refundRequest(terminal, 1000, n), ""))
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	for !inst.Status.Final() {
		if inst, err = c.Instruction(ctx, inst.RefundInstructionID); err != nil {
			return fmt.Errorf("status: %w", err)
		}
	}
	if inst.Status != payroc.StatusCompleted || inst.RefundID == "" {
		return fmt.Errorf("instruction ended %s without a refund", inst.Status)
	}
	return nil
}

// BenchmarkP3ProxyCost compares submit + status GET through the proxy with the same through a bare
// httputil.ReverseProxy in front of the same simulator, at 16 and at 32 concurrent clients: p50/p99 latency
// of each operation under that load, and throughput. Rounds alternate between the two so drift on a shared
// machine hits both alike. Targets at both loads: p50 ≤ 1.10×, p99 ≤ 1.25×, throughput ≥ 0.90×.
func BenchmarkP3ProxyCost(b *testing.B) {
	const devPerWkr = 4
	loads := []int{16, 32}
	maxWorkers := slices.Max(loads)
	up := startSim(b, sim.Config{Delay: time.Nanosecond, Hold: 10 * time.Second, Timeout: time.Minute,
		ExtraDevices: maxWorkers * devPerWkr, MaxInstructions: 20_000}, nil)
	st := &p3Stack{up: up, px: startProxy(b, proxyConfig(up, randomHex(32), nil), nil), bare: startBare(b, up),
		serials: up.serials(2, maxWorkers*devPerWkr), devPerWkr: devPerWkr}
	for _, workers := range loads {
		st.run(b, workers)
	}
}

// BenchmarkP3RedisState is P3 at 16 clients with the proxy's state on Redis (-state redis: a local
// redis-server, one Lua script per state call: two per submit, one per status GET and one more when it is
// final), against the same bare ReverseProxy. It also reports the Redis server's CPU time per submit + GET.
// Targets: p50 ≤ 1.5×, throughput ≥ 0.75×.
func BenchmarkP3RedisState(b *testing.B) {
	const devPerWkr, workers = 4, 16
	up := startSim(b, sim.Config{Delay: time.Nanosecond, Hold: 10 * time.Second, Timeout: time.Minute,
		ExtraDevices: workers * devPerWkr, MaxInstructions: 20_000}, nil)
	cfg := proxyConfig(up, randomHex(32), nil)
	rs, _ := withRedis(b, &cfg, "p3:")
	st := &p3Stack{up: up, px: startProxy(b, cfg, nil), bare: startBare(b, up), serials: up.serials(2, workers*devPerWkr),
		devPerWkr: devPerWkr, redisCPU: redisCPU(b, rs.URL())}
	st.run(b, workers)
}

// p3Stack is the simulator, the proxy and the bare ReverseProxy P3 runs against.
type p3Stack struct {
	up        *simStack
	px        *proxyStack
	bare      string
	serials   []string
	devPerWkr int
	// redisCPU, when the proxy's state is on Redis, reads the Redis server's CPU time: the figure has its own
	// name, targets and the Redis CPU per operation.
	redisCPU func() (time.Duration, error)
}

// p3Side is one side of P3 at one load: a client per worker (each a POS lane with its own devices).
type p3Side struct {
	name    string
	clients []*payroc.Client
}

// devices are worker w's devices out of workers: w, w+workers, … (a lane's token names the few devices at its
// counter; the token is verified on every call, so its size matters). Never two refunds on one device at once.
func (st *p3Stack) devices(w, workers int) []string {
	var out []string
	for d := range st.devPerWkr {
		out = append(out, st.serials[w+workers*d])
	}
	return out
}

func (st *p3Stack) sides(b *testing.B, workers int) []p3Side {
	hc := &http.Client{Transport: clientTransport(workers)}
	b.Cleanup(hc.CloseIdleConnections)
	bareC := bareClient(st.bare, st.up.Sim.APIKey(), hc)
	proxy, bare := p3Side{name: "proxy"}, p3Side{name: "bare"}
	for w := range workers {
		tok := laneToken(b, st.px.Keys, fmt.Sprintf("p3-%d-lane-%d", workers, w), st.devices(w, workers))
		proxy.clients = append(proxy.clients, proxyClient(st.px.URL, hc, payroc.NewStaticToken(tok, nil)))
		bare.clients = append(bare.clients, bareC)
	}
	return []p3Side{proxy, bare}
}

// run measures P3 at one load and prints its figure.
func (st *p3Stack) run(b *testing.B, workers int) {
	const (
		rounds = 8
		ops    = 4000 // per side per round
	)
	sides := st.sides(b, workers)
	terminal := st.up.terminal(st.serials[0])
	for _, sd := range sides { // warm up: connections, tokens, code paths
		_, _, err := st.round(sd, workers, 20*workers, terminal)
		require.NoError(b, err)
	}
	redisBefore := st.redisTime(b)
	lat := map[string][]time.Duration{}
	rates := map[string][]float64{}
	var r50s, r99s, thrRatios []float64 // per round: proxy over bare
	for r := range rounds {
		if r > 0 {
			slices.Reverse(sides) // alternate which side goes first
		}
		took := map[string]time.Duration{}
		round := map[string][]time.Duration{}
		for _, sd := range sides {
			ds, d, err := st.round(sd, workers, ops, terminal)
			require.NoError(b, err)
			round[sd.name] = ds
			lat[sd.name] = append(lat[sd.name], ds...)
			took[sd.name] = d
			rates[sd.name] = append(rates[sd.name], float64(ops)/d.Seconds())
		}
		r50s = append(r50s, ratio(quantile(round["proxy"], 0.5), quantile(round["bare"], 0.5)))
		r99s = append(r99s, ratio(quantile(round["proxy"], 0.99), quantile(round["bare"], 0.99)))
		thrRatios = append(thrRatios, took["bare"].Seconds()/took["proxy"].Seconds())
	}
	p50p, p50b := quantile(lat["proxy"], 0.5), quantile(lat["bare"], 0.5)
	p99p, p99b := quantile(lat["proxy"], 0.99), quantile(lat["bare"], 0.99)
	tp, tb := medianFloat(rates["proxy"]), medianFloat(rates["bare"])
	// Each ratio is the median of the rounds' ratios, each round timing the two sides back to back: a burst of
	// other work on a shared machine spoils one round, not the figure.
	r50, r99, rt := medianFloat(r50s), medianFloat(r99s), medianFloat(thrRatios)
	name, target, met := fmt.Sprintf("P3 proxy cost, %d clients", workers), "p50<=1.10x p99<=1.25x thr>=0.90x",
		r50 <= 1.10 && r99 <= 1.25 && rt >= 0.90
	extra := ""
	if st.redisCPU != nil {
		// Only the proxy's rounds call Redis: its CPU time over them, per operation.
		perOp := (st.redisTime(b) - redisBefore) / (rounds * ops)
		name, target, met = fmt.Sprintf("P3 proxy cost, -state redis, %d clients", workers), "p50<=1.5x thr>=0.75x", r50 <= 1.5 && rt >= 0.75
		extra = fmt.Sprintf("; redis-server CPU %s per submit+get", fmtDur(perOp))
	}
	figure(name, "p50 %s p99 %s throughput %s (proxy p50 %s / bare %s, p99 %s / %s, "+
		"%.0f / %.0f submit+get per s%s; ratios are medians of the rounds' ratios; %d ops per side in %d alternating rounds) target %s: %s",
		fmtRatio(r50), fmtRatio(r99), fmtRatio(rt), fmtDur(p50p), fmtDur(p50b), fmtDur(p99p), fmtDur(p99b), tp, tb, extra,
		rounds*ops, rounds, target, verdict(met))
}

// redisTime is the Redis server's CPU time so far (0 when the state is in memory).
func (st *p3Stack) redisTime(b *testing.B) time.Duration {
	if st.redisCPU == nil {
		return 0
	}
	d, err := st.redisCPU()
	require.NoError(b, err, "redis-server CPU time")
	return d
}

// round runs ops operations on one side with workers at once and returns each one's latency and the time
// the whole round took.
func (st *p3Stack) round(sd p3Side, workers, ops int, terminal string) ([]time.Duration, time.Duration, error) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	lat := make([][]time.Duration, workers)
	errs := make([]error, workers)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			devs := st.devices(w, workers)
			for {
				n := int(next.Add(1))
				if n > ops {
					return
				}
				t0 := time.Now()
				if err := p3Op(ctx, sd.clients[w], devs[n%len(devs)], terminal, n); err != nil {
					errs[w] = fmt.Errorf("P3 %s, %d clients: %w", sd.name, workers, err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	return slices.Concat(lat...), took, errors.Join(errs...)
}
