// Package harness runs end-to-end tests of the POS page in real headless Chromium, next to the real proxy
// (proxy/server) and the Payroc Cloud simulator (payroc/sim), all in the test process.
//
// It is the base of this repository's own suite (package e2e) and is exported so that a merchant can write
// chromedp tests of their own page or integration on top of it (see the example):
//
//	func TestMain(m *testing.M) {
//		root := harness.ModuleRoot()
//		_ = harness.BuildWasm(ctx, root)                   // web/payroc.wasm (+ .br, .gz), web/wasm_exec.js
//		stack, _ = harness.StartStack(harness.StackConfig{WebDir: filepath.Join(root, "web")})
//		browser, _ = harness.StartBrowser(harness.BrowserConfig{})
//		os.Exit(m.Run())
//	}
//
//	func TestRefund(t *testing.T) {
//		tok, _ := stack.Proxy.LaneToken(ctx, server.TokenRequest{Devices: []string{"1850010868"}, MaxAmount: 100000})
//		tab := browser.NewTab(t)
//		tab.Open(stack.Proxy.URL + "/#token=" + tok.Token)     // waits for <html data-ready="true">
//		tab.Type("amount", "12.34")
//		tab.Click("refund-button")
//		tab.WaitFor("approval", `document.querySelector('[data-testid="status"]').dataset.status === "approved"`)
//		id := tab.Text("receipt-refund-id")
//		// or the JavaScript API on the page's own module instance:
//		n := harness.Eval[int](tab, `import('/payroc.js').then(m => m.load()).then(p => p.pending()).then(l => l.length)`)
//	}
//
// What it gives a test, and why:
//
//   - One Chromium per package (StartBrowser): a start costs far more than a tab. Each test gets a fresh tab in a
//     browser context of its own (Browser.NewTab), so localStorage — where the module records unfinished
//     refunds — never leaks between tests; SharingStorage opens a second tab of the same profile.
//   - A deadline per step (Tab.StepTimeout): a page that never shows what the test waits for fails in seconds,
//     naming the step, instead of hanging until go test's global timeout.
//   - The page console and uncaught exceptions in the test log (chromedp.Console, which reads the
//     Runtime.consoleAPICalled and Runtime.exceptionThrown events); an uncaught exception or a Go panic in the
//     wasm (fatal, or recovered and reported) fails the test. Tab.AllowExit and Tab.AllowException are for
//     the tests that provoke them on purpose.
//   - On failure a screenshot, the console log and the DOM go to an artifacts folder ($E2E_ARTIFACTS, else a
//     temporary one kept after the run), named in the failure message.
//   - Tab.RecordNetwork keeps every request and response of the page with its body (CDP Network events and
//     Network.getResponseBody), for checks such as "no secret ever reaches the browser".
//   - StartStack runs the simulator (fast device timings, its counters and fault controls at hand as
//     Stack.Sim) and the proxy on loopback; Proxy.Restart restarts the proxy on the same address with an
//     empty memory; Stack.Bearers lists every Payroc bearer token the simulator issued.
//   - StackConfig{Redis: true, Instances: 2} runs proxies that share a real redis-server behind a round-robin
//     front with no stickiness (Stack.Front), as a deployment of several instances does: Front.Kill takes an
//     instance away mid-run, Stack.StopRedis and Stack.StartRedis take Redis away and bring it back empty. A
//     missing redis-server is an error naming the command that installs it.
//
// Chromium is never optional: when it is missing or cannot start, StartBrowser returns an error naming the
// command that installs it, and the caller fails its tests (this suite never skips).
package harness
