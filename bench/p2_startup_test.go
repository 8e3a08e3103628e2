package bench

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
)

// BenchmarkP2StartUp measures, in headless Chromium, the time from navigation to load() resolved on a page that
// loads payroc.js and payroc.wasm from the real proxy, and the same for a page that starts the minimal Go wasm
// the same way (import wasm_exec.js, fetch, compile streaming, run, hello). Each cold run is a fresh browser
// context (empty cache); each is followed by a warm reload. Runs alternate between the two pages; the figure
// is the ratio of the medians. Target: ≤ 1.5× (cold).
func BenchmarkP2StartUp(b *testing.B) {
	const runs = 7
	browser := shared.chromium(b)
	up := startSim(b, sim.Config{}, nil)
	cfg := proxyConfig(up, randomHex(32), nil)
	cfg.WebDir = shared.webDir(b)
	cfg.Simulate = true
	px := startProxy(b, cfg, nil)
	tok := laneToken(b, px.Keys, "p2", up.serials(0, 2))
	pages := map[string]string{
		"payroc":  px.URL + "/p2-payroc.html#token=" + tok,
		"minimal": px.URL + "/p2-min.html",
	}
	cold := map[string][]time.Duration{}
	warm := map[string][]time.Duration{}
	measure := func(name string) {
		ctx, cancel := chromedp.NewContext(browser.Context(), chromedp.WithNewBrowserContext())
		defer cancel()
		step, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		for i, m := range []map[string][]time.Duration{cold, warm} {
			nav := chromedp.Navigate(pages[name])
			if i == 1 {
				nav = chromedp.Reload()
			}
			require.NoError(b, chromedp.Do(step, nav))
			d, err := pageTime(step, 30*time.Second)
			require.NoError(b, err, "P2 %s: %v", name, err)
			m[name] = append(m[name], d)
		}
	}
	measure("payroc") // the first start of each warms the browser itself, not the page
	measure("minimal")
	cold, warm = map[string][]time.Duration{}, map[string][]time.Duration{}
	for r := range runs {
		order := []string{"payroc", "minimal"}
		if r%2 == 1 {
			order = []string{"minimal", "payroc"}
		}
		for _, name := range order {
			measure(name)
		}
	}
	pc, mc := median(cold["payroc"]), median(cold["minimal"])
	pw, mw := median(warm["payroc"]), median(warm["minimal"])
	rc := ratio(pc, mc)
	figure("P2 start-up", "navigation to load() resolved %s the minimal Go wasm page (payroc %s / minimal %s, median of %d cold runs "+
		"in fresh browser contexts; warm reload %s / %s = %s) target <=1.5x: %s",
		fmtRatio(rc), fmtDur(pc), fmtDur(mc), runs, fmtDur(pw), fmtDur(mw), fmtRatio(ratio(pw, mw)), verdict(rc <= 1.5))
}
