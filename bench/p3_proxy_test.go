package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// p3Op is one unit of P3: submit a refund and GET its status until final (the simulated device finishes at
// once, so normally one GET). It fails on anything but an approved, completed instruction.
func p3Op(ctx context.Context, c *payroc.Client, serial, terminal string, n int) error {
	inst, err := c.Submit(ctx, serial, refundRequest(terminal, 1000, n), "")
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
// httputil.ReverseProxy in front of the same simulator: p50/p99 latency one at a time, and throughput with 16
// concurrent clients. Rounds alternate between the two so drift on a shared machine hits both alike.
// Targets: p50 ≤ 1.10×, p99 ≤ 1.25×, throughput ≥ 0.90×.
func BenchmarkP3ProxyCost(b *testing.B) {
	const (
		workers    = 16
		devPerWkr  = 4
		rounds     = 8
		latencyOps = 500  // per side per round, one at a time
		thrOps     = 1500 // per side per round, 16 at a time
	)
	up := startSim(b, sim.Config{Delay: time.Nanosecond, Hold: 10 * time.Second, Timeout: time.Minute,
		ExtraDevices: workers * devPerWkr, MaxInstructions: 20_000}, nil)
	px := startProxy(b, proxyConfig(up, randomHex(32), nil), nil)
	bare := startBare(b, up)
	serials := up.serials(2, workers*devPerWkr)
	terminal := up.terminal(serials[0])
	hc := &http.Client{Transport: clientTransport(workers)}
	// Worker w is a POS lane: its lane token is scoped to its own devices w, w+workers, … (a lane's token names
	// the few devices at its counter; the token is verified on every call, so its size matters).
	devices := func(w int) []string {
		var out []string
		for d := range devPerWkr {
			out = append(out, serials[w+workers*d])
		}
		return out
	}
	bareC := bareClient(bare, up.Sim.APIKey(), hc)
	proxyC := make([]*payroc.Client, workers)
	for w := range workers {
		proxyC[w] = proxyClient(px.URL, hc, payroc.NewStaticToken(laneToken(b, px.Keys, fmt.Sprintf("p3-lane-%d", w), devices(w)), nil))
	}
	client := func(side string, w int) *payroc.Client {
		if side == "proxy" {
			return proxyC[w]
		}
		return bareC
	}
	ctx := context.Background()
	seq := 0
	op := func(side string) {
		seq++
		if err := p3Op(ctx, client(side, 0), devices(0)[seq%devPerWkr], terminal, seq); err != nil {
			b.Fatalf("P3 %s: %v", side, err)
		}
	}
	// Warm up both paths: connections, tokens, code paths.
	for range 200 {
		op("proxy")
		op("bare")
	}

	lat := map[string][]time.Duration{}
	var thrRatios []float64 // per round: proxy ops/s over bare ops/s
	thrRates := map[string][]float64{}
	var errMu sync.Mutex
	var firstErr error
	for r := range rounds {
		order := []string{"proxy", "bare"}
		if r%2 == 1 {
			order = []string{"bare", "proxy"}
		}
		for _, side := range order {
			for range latencyOps {
				start := time.Now()
				op(side)
				lat[side] = append(lat[side], time.Since(start))
			}
		}
		roundT := map[string]time.Duration{}
		for _, side := range order {
			var next atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						n := int(next.Add(1))
						if n > thrOps {
							return
						}
						// Worker w owns its devices: never two refunds on one device at once.
						if err := p3Op(ctx, client(side, w), devices(w)[n%devPerWkr], terminal, n); err != nil {
							errMu.Lock()
							if firstErr == nil {
								firstErr = fmt.Errorf("P3 %s throughput: %w", side, err)
							}
							errMu.Unlock()
							return
						}
					}
				}()
			}
			wg.Wait()
			roundT[side] = time.Since(start)
			thrRates[side] = append(thrRates[side], float64(thrOps)/roundT[side].Seconds())
			if firstErr != nil {
				b.Fatal(firstErr)
			}
		}
		thrRatios = append(thrRatios, roundT["bare"].Seconds()/roundT["proxy"].Seconds())
	}
	p50p, p50b := quantile(lat["proxy"], 0.5), quantile(lat["bare"], 0.5)
	p99p, p99b := quantile(lat["proxy"], 0.99), quantile(lat["bare"], 0.99)
	tp, tb := medianFloat(thrRates["proxy"]), medianFloat(thrRates["bare"])
	// Throughput is the median of the rounds' ratios: a burst of other work on a shared machine spoils one
	// round, not the figure.
	r50, r99, rt := ratio(p50p, p50b), ratio(p99p, p99b), medianFloat(thrRatios)
	figure("P3 proxy cost", "p50 %s p99 %s throughput %s (proxy p50 %s / bare %s, p99 %s / %s, %.0f / %.0f submit+get per s "+
		"with %d clients (medians of the rounds); %d sequential and %d concurrent ops per side in %d alternating rounds) target p50<=1.10x p99<=1.25x thr>=0.90x: %s",
		fmtRatio(r50), fmtRatio(r99), fmtRatio(rt), fmtDur(p50p), fmtDur(p50b), fmtDur(p99p), fmtDur(p99b), tp, tb,
		workers, len(lat["proxy"]), rounds*thrOps, rounds, verdict(r50 <= 1.10 && r99 <= 1.25 && rt >= 0.90))
}
