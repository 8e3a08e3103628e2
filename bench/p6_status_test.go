package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// BenchmarkP6StatusLatency measures, in headless Chromium, the time from a simulated device finishing (the
// simulator's Finish, while the page's watch is held as a long-poll through the proxy) to the page's onStatus
// seeing "completed", against one fetch round trip from the page to the proxy. The page notes epoch times
// (performance.timeOrigin + performance.now()) against the Go side's time.Now: one machine, one clock. The
// page clock's offset from the server's is still measured NTP-style (best of 30) and printed as a check; it is
// not applied, since its own uncertainty (half a round trip) is larger than any real offset. No target is set in the issue; the ratio says how many round trips a
// status change costs.
func BenchmarkP6StatusLatency(b *testing.B) {
	const samples = 25
	browser := shared.chromium(b)
	up := startSim(b, sim.Config{Delay: time.Hour, Hold: 30 * time.Second, Timeout: 10 * time.Minute}, nil)
	cfg := proxyConfig(up, randomHex(32), nil)
	cfg.WebDir = shared.webDir(b)
	cfg.Simulate = true
	px := startProxy(b, cfg, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/bench/now" { // the server's clock, for the page's offset
				w.Header().Set("Cache-Control", "no-store")
				_, _ = w.Write([]byte(strconv.FormatInt(time.Now().UnixMicro(), 10)))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	serial := up.serials(0, 1)[0]
	tok := laneToken(b, px.Keys, "p6", []string{serial})

	ctx, cancel := chromedp.NewContext(browser.Context(), chromedp.WithNewBrowserContext())
	defer cancel()
	run, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	require.NoError(b, chromedp.Do(run, chromedp.Navigate(px.URL+"/p6.html#token="+tok)))
	require.NoError(b, pollJS(run, `window.benchError ? (() => { throw new Error(window.benchError) })() : window.benchReady === true`))
	// The baseline is measured between the refunds (a few fetches after each), so both see the same machine.
	var rtt []time.Duration
	roundTrips := func(n int) {
		ms, err := chromedp.Run(run, chromedp.Evaluate[[]float64](fmt.Sprintf(`bench.rtt(%d)`, n), chromedp.EvalAwaitPromise))
		require.NoError(b, err)
		for _, m := range ms {
			rtt = append(rtt, msDur(m))
		}
	}
	roundTrips(10) // warm the connection
	rtt = nil
	type clockFix struct {
		Offset  float64 `json:"offset"`
		HalfRTT float64 `json:"halfRTT"`
	}
	fix, err := chromedp.Run(run, chromedp.Evaluate[clockFix](`bench.clock(30)`, chromedp.EvalAwaitPromise))
	require.NoError(b, err)

	var lat []time.Duration
	for i := range samples + 2 {
		amount := 1003 + 100*int64(i) // ends in 03: the device waits for a card until Finish
		_, err := chromedp.Run(run, chromedp.Evaluate[bool](fmt.Sprintf(`bench.start(%q, %q, %d)`, serial, up.terminal(serial), amount)))
		require.NoError(b, err)
		require.NoError(b, pollJS(run, `bench.current.error ? (() => { throw new Error(bench.current.error) })() : (bench.current.events[0]?.id ?? false)`))
		id, err := chromedp.Run(run, chromedp.Evaluate[string](`bench.current.events[0].id`))
		require.NoError(b, err)
		// Finish only once the page's status GET is held at the simulator (through the proxy).
		require.Eventually(b, func() bool { return up.Sim.Stats().HeldPolls == 1 }, 10*time.Second, time.Millisecond, "P6: the page's watch held at the simulator")
		finished := time.Now()
		require.NoError(b, up.Sim.Finish(id, payroc.StatusCompleted))
		require.NoError(b, pollJS(run, `bench.current.error ? (() => { throw new Error(bench.current.error) })() : bench.current.outcome === 'approved'`))
		seen, err := chromedp.Run(run, chromedp.Evaluate[float64](`bench.current.events.find(e => e.status === 'completed')?.t ?? 0`))
		require.NoError(b, err, "P6: onStatus never saw completed (%v)", err)
		require.NotEqualValues(b, 0, seen, "P6: onStatus never saw completed (%v)", err)
		if i < 2 {
			continue // warm-up
		}
		lat = append(lat, msDur(seen-float64(finished.UnixMicro())/1000))
		roundTrips(3)
	}
	m, base := median(lat), median(rtt)
	figure("P6 status latency", "device finished -> onStatus in the page %s one loopback round trip (median %s, p90 %s over %d refunds / "+
		"median of %d fetch round trips page->proxy %s; page clock offset measured %.2fms ±%.2fms, not applied) no target set",
		fmtRatio(ratio(m, base)), fmtDur(m), fmtDur(quantile(lat, 0.9)), len(lat), len(rtt), fmtDur(base), fix.Offset, fix.HalfRTT)
}

func msDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// pollJS evaluates expr every 5 ms until it is truthy; an exception ends the wait with its message.
func pollJS(ctx context.Context, expr string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => !!(`+expr+`))()`))
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", expr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
