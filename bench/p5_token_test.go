package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// BenchmarkP5TokenMinting runs waves of 1,000 concurrent requests (GET of a refund, each needing the proxy's
// Payroc bearer) through one proxy and counts identity calls: in a wave inside a token's refresh window (the
// proxy's and the simulator's clocks jump there) exactly one background mint must serve all of them, in a wave
// outside it none, and after a hard expiry exactly one mint for all the waiting requests. Identity answers
// after 250 ms, like a remote service, so every request of an inside wave runs across the refresh. It also
// compares p99 latency inside the refresh window with outside it. Target: exactly one identity call per token
// lifetime.
func BenchmarkP5TokenMinting(b *testing.B) {
	const (
		workers   = 1000
		lifetimes = 5
		identity  = 250 * time.Millisecond
		ttl       = time.Hour // the simulator's token lifetime; the proxy refreshes in its last 5 minutes
		step      = 57 * time.Minute
	)
	clk := &clock{}
	// Identity calls are counted as they arrive, and a wave is over only when no mint is in flight, so a
	// background refresh is put down to the wave that started it.
	var mintDone atomic.Int64 // when identity last answered (Unix ns)
	var mints, minting atomic.Int64
	noteMint := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/authorize") {
				h.ServeHTTP(w, r)
				return
			}
			mints.Add(1)
			minting.Add(1)
			defer minting.Add(-1)
			h.ServeHTTP(w, r)
			mintDone.Store(time.Now().UnixNano())
		})
	}
	up := startSim(b, sim.Config{Delay: time.Nanosecond, Hold: 5 * time.Second, Timeout: time.Minute, TokenTTL: ttl, Now: clk.Now}, noteMint)
	cfg := proxyConfig(up, randomHex(32), nil)
	cfg.Now = clk.Now
	px := startProxy(b, cfg, nil)
	serial := up.serials(0, 1)[0]
	tok := laneToken(b, px.Keys, "p5", []string{serial})
	hc := &http.Client{Transport: clientTransport(workers)}
	ctx := context.Background()
	res, err := proxyClient(px.URL, hc, payroc.NewStaticToken(tok, nil)).RunRefund(ctx, mustRefund(serial, refundRequest(up.terminal(serial), 1000, 1), ""), payroc.RunOptions{})
	require.NoError(b, err, "P5: the refund to read back: %v", err)
	require.NotNil(b, res.Refund, "P5: the refund to read back: %v", err)
	target := px.URL + "/v1/refunds/" + res.Instruction.RefundID
	require.NoError(b, up.Sim.SetLatency(sim.RouteIdentity, identity))

	type sample struct {
		start time.Time
		took  time.Duration
	}
	var errors atomic.Int64
	var firstErr atomic.Value
	// wave sends one request from each of workers goroutines at once and returns the samples and the identity
	// calls it caused.
	wave := func() ([]sample, int) {
		before := mints.Load()
		out := make([]sample, workers)
		var ready, done sync.WaitGroup
		gate := make(chan struct{})
		for i := range workers {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				ready.Done()
				<-gate
				start := time.Now()
				res, err := hc.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET refund: %s", res.Status)
					}
				}
				if err != nil {
					errors.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				out[i] = sample{start: start, took: time.Since(start)}
			}()
		}
		ready.Wait()
		close(gate)
		done.Wait()
		require.Eventually(b, func() bool { return minting.Load() == 0 }, 10*time.Second, time.Millisecond, "P5: every mint finished")
		return out, int(mints.Load() - before)
	}

	wave() // connections up
	wave()
	var inside, outside []time.Duration
	var perLifetime []int
	outsideCalls, insideTotal, insideWithin := 0, 0, 0
	for k := 1; k <= lifetimes; k++ {
		s, calls := wave() // a fresh token: no identity call expected
		outsideCalls += calls
		for _, x := range s {
			outside = append(outside, x.took)
		}
		clk.Set(time.Duration(k) * step) // inside the current token's refresh window
		s, calls = wave()
		perLifetime = append(perLifetime, calls)
		done := time.Unix(0, mintDone.Load())
		for _, x := range s {
			insideTotal++
			if x.start.Before(done) {
				insideWithin++
			}
			inside = append(inside, x.took)
		}
	}
	// A hard expiry: nobody asked during the whole refresh window, so the token is gone when a wave arrives.
	clk.Set(time.Duration(lifetimes)*step + ttl + time.Minute)
	expired, expiryCalls := wave()
	var expiredTook []time.Duration
	for _, x := range expired {
		expiredTook = append(expiredTook, x.took)
	}
	ok := outsideCalls == 0 && expiryCalls == 1
	for _, c := range perLifetime {
		ok = ok && c == 1
	}
	p99in, p99out := quantile(inside, 0.99), quantile(outside, 0.99)
	figure("P5 token minting", "identity calls per token lifetime %v with %d concurrent requests across each refresh (outside the refresh "+
		"windows %d; after a hard expiry %d for %d waiting requests); p99 inside the refresh window %s outside "+
		"(%s / %s; %d of %d inside requests started before the mint finished; identity takes %s; after the hard expiry p99 %s); "+
		"errors=%d target exactly 1 per lifetime: %s",
		perLifetime, workers, outsideCalls, expiryCalls, workers, fmtRatio(ratio(p99in, p99out)), fmtDur(p99in), fmtDur(p99out),
		insideWithin, insideTotal, fmtDur(identity), fmtDur(quantile(expiredTook, 0.99)), errors.Load(), verdict(ok))
	if n := errors.Load(); n > 0 {
		b.Fatalf("P5: %d requests failed across the token refreshes (first: %v)", n, firstErr.Load())
	}
}
