package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// BenchmarkR5Load runs 200 full refund flows at once (submit, watch until final, read the refund) through the
// proxy and the simulator, each from a lane of its own with its own lane token under the proxy's default rate
// limit, and reports errors (which must be 0) and the time taken, beside the same 200 flows through the bare
// ReverseProxy. Outcomes are mixed (approved, declined, device failure, approved after a second long-poll)
// and checked against the simulator, as are duplicates.
func BenchmarkR5Load(b *testing.B) {
	const (
		flows  = 200
		rounds = 2
	)
	up := startSim(b, sim.Config{Delay: 100 * time.Millisecond, Hold: time.Second, Timeout: time.Minute, ExtraDevices: flows}, nil)
	cfg := proxyConfig(up, randomHex(32), nil)
	cfg.Rate = 0 // the default: 20 requests per second per lane token, burst 60
	px := startProxy(b, cfg, nil)
	bare := startBare(b, up)
	serials := up.serials(2, flows)
	hc := &http.Client{Transport: clientTransport(flows)}
	bareC := bareClient(bare, up.Sim.APIKey(), hc)
	proxyC := make([]*payroc.Client, flows)
	for i, s := range serials {
		proxyC[i] = proxyClient(px.URL, hc, payroc.NewStaticToken(laneToken(b, px.Keys, fmt.Sprintf("lane-%d", i+1), []string{s}), nil))
	}
	amounts := []int64{1000, 1001, 1002, 1004}
	want := map[int64]payroc.Outcome{0: payroc.OutcomeApproved, 1: payroc.OutcomeDeclined, 2: payroc.OutcomeFailed, 4: payroc.OutcomeApproved}

	type result struct {
		took    time.Duration
		perFlow []time.Duration
		errs    []error
	}
	run := func(side string) result {
		var mu sync.Mutex
		var res result
		var wg sync.WaitGroup
		gate := make(chan struct{})
		keys := make([]string, flows)
		for i := range flows {
			wg.Add(1)
			keys[i] = payroc.NewIdempotencyKey()
			go func() {
				defer wg.Done()
				c := bareC
				if side == "proxy" {
					c = proxyC[i]
				}
				amount := amounts[i%len(amounts)]
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				<-gate
				start := time.Now()
				r, err := c.RunRefund(ctx, mustRefund(serials[i], refundRequest(up.terminal(serials[i]), amount, i), keys[i]), payroc.RunOptions{})
				took := time.Since(start)
				if err == nil && r.Outcome != want[amount%100] {
					err = fmt.Errorf("outcome %s, want %s", r.Outcome, want[amount%100])
				}
				mu.Lock()
				defer mu.Unlock()
				res.perFlow = append(res.perFlow, took)
				if err != nil {
					res.errs = append(res.errs, fmt.Errorf("%s flow %d: %w", side, i, err))
				}
			}()
		}
		start := time.Now()
		close(gate)
		wg.Wait()
		res.took = time.Since(start)
		for _, k := range keys {
			if up.Sim.InstructionsFor(k) != 1 || up.Sim.RefundsFor(k) > 1 {
				res.errs = append(res.errs, fmt.Errorf("%s: key %s has %d instructions and %d refunds", side, k, up.Sim.InstructionsFor(k), up.Sim.RefundsFor(k)))
			}
		}
		return res
	}
	for _, side := range []string{"proxy", "bare"} { // warm up: connections, tokens
		if w := run(side); len(w.errs) > 0 {
			b.Fatalf("R5 warm-up: %d flows failed; first: %v", len(w.errs), w.errs[0])
		}
	}
	all := map[string]result{}
	for r := range rounds {
		order := []string{"proxy", "bare"}
		if r%2 == 1 {
			order = []string{"bare", "proxy"}
		}
		for _, side := range order {
			res := run(side)
			a := all[side]
			a.took += res.took
			a.perFlow = append(a.perFlow, res.perFlow...)
			a.errs = append(a.errs, res.errs...)
			all[side] = a
		}
	}
	p, bb := all["proxy"], all["bare"]
	figure("R5 load", "%d concurrent refund flows through proxy + simulator: errors=%d, all done in %s (bare ReverseProxy %s: %s; "+
		"per flow p50 %s p99 %s / bare %s %s; mean of %d rounds; device %s, long-poll hold %s) target errors=0: %s",
		flows, len(p.errs), fmtDur(p.took/rounds), fmtDur(bb.took/rounds), fmtRatio(ratio(p.took, bb.took)),
		fmtDur(quantile(p.perFlow, 0.5)), fmtDur(quantile(p.perFlow, 0.99)), fmtDur(quantile(bb.perFlow, 0.5)), fmtDur(quantile(bb.perFlow, 0.99)),
		rounds, fmtDur(100*time.Millisecond), fmtDur(time.Second), verdict(len(p.errs) == 0))
	if errs := append(p.errs, bb.errs...); len(errs) > 0 {
		b.Fatalf("R5: %d flows failed; first: %v", len(errs), errs[0])
	}
}
