package kiosk

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// kioskTab opens the kiosk on device serial (extra query parameters after it) and waits until it is ready.
func kioskTab(t *testing.T, serial, query string) *harness.Tab {
	t.Helper()
	setupOrFail(t)
	tab := env.browser.NewTab(t)
	tab.Navigate(env.kioskURL + "/?device=" + serial + query)
	tab.WaitFor("the kiosk to start", `document.documentElement.dataset.ready !== undefined`)
	require.Equal(t, "true", harness.Eval[string](tab, `document.documentElement.dataset.ready`),
		"the kiosk did not start: %s", tab.Text("error"))
	require.Equal(t, serial, tab.Value("device"), "the kiosk offers the device its lane token allows")
	return tab
}

func refund(tab *harness.Tab, amount string) {
	tab.Type("amount", amount)
	tab.Click("refund-button")
}

func waitStatus(tab *harness.Tab, status string) {
	tab.WaitFor("status "+status, `document.querySelector('[data-testid="status"]').dataset.status === "`+status+`"`)
}

func waitOutcome(tab *harness.Tab, outcome string) {
	tab.WaitFor("outcome "+outcome, `document.querySelector('[data-testid="outcome"]').dataset.outcome === "`+outcome+`" || `+
		`document.querySelector('[data-testid="error"]').dataset.code !== ""`)
	require.Equal(tab.T(), "", tab.Attr("error", "data-code"), "error shown: %s", tab.Text("error"))
	require.Equal(tab.T(), outcome, tab.Attr("outcome", "data-outcome"))
}

func history(tab *harness.Tab) []string {
	return harness.Eval[[]string](tab, `[...document.querySelectorAll('[data-testid="history"] li')].map(li => li.textContent)`)
}

// resources lists the URLs the page fetched (scripts, the wasm, API calls).
func resources(tab *harness.Tab) []string {
	return harness.Eval[[]string](tab, `performance.getEntriesByType('resource').map(e => e.name)`)
}

func TestKioskOnAnotherOrigin(t *testing.T) {
	setupOrFail(t)
	devices := env.stack.Sim.Devices()
	device := func(i int) string { return devices[2+i].SerialNumber } // the extra ones: 1850020001…

	t.Run("ApprovedRefund", func(t *testing.T) {
		tab := kioskTab(t, device(0), "")
		refund(tab, "12.34")
		waitOutcome(tab, "approved")
		assert.Equal(t, []string{"inProgress", "completed"}, history(tab), "onStatus: each status once, in order")
		assert.Contains(t, tab.Text("outcome"), "12.34 USD")
		assert.NotEmpty(t, tab.Attr("outcome", "data-refund"), "the receipt names the refund")

		// The module came from the installed package, beside the kiosk; only the API calls went to the proxy.
		got := resources(tab)
		assert.Contains(t, got, env.kioskURL+"/node_modules/@posrefund/payroc/payroc.wasm")
		assert.Contains(t, got, env.kioskURL+"/node_modules/@posrefund/payroc/wasm_exec.js")
		for _, u := range got {
			if strings.HasPrefix(u, env.stack.Proxy.URL) {
				assert.True(t, strings.HasPrefix(u, env.stack.Proxy.URL+"/v1/") || u == env.stack.Proxy.URL+"/lane",
					"only API calls go to the proxy, not %s", u)
			}
		}
	})

	t.Run("ModuleStraightFromTheProxy", func(t *testing.T) {
		tab := kioskTab(t, device(1), "&module=proxy")
		refund(tab, "7.50")
		waitOutcome(tab, "approved")
		got := resources(tab)
		for _, f := range []string{"/payroc.js", "/wasm_exec.js", "/payroc.wasm"} {
			assert.Contains(t, got, env.stack.Proxy.URL+f, "%s loaded cross-origin from the proxy (CORS)", f)
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		tab := kioskTab(t, device(2), "")
		refund(tab, "20.03") // ending 03: no card is ever presented
		waitStatus(tab, "inProgress")
		key := tab.Attr("status", "data-key")
		tab.WaitVisible("cancel-button")
		tab.Click("cancel-button")
		waitOutcome(tab, "canceled")
		assert.Equal(t, []string{"inProgress", "canceled"}, history(tab))
		assert.Equal(t, 0, env.stack.Sim.RefundsFor(key), "a canceled instruction makes no refund")
	})

	t.Run("ExpiredTokenRenewedThroughGetToken", func(t *testing.T) {
		tab := kioskTab(t, device(3), "")
		before := env.kiosk.Minted()
		env.skew.Add(int64(tokenTTL + time.Second)) // the kiosk's token is now past its expiry at the proxy
		refund(tab, "12.35")
		waitOutcome(tab, "approved")
		assert.Equal(t, before+1, env.kiosk.Minted(), "the module asked the back office once for a new token")
		assert.Contains(t, env.stack.Proxy.Logs(), `"status":401`, "the proxy refused the expired token first")
	})

	t.Run("SignOffRevokesTheToken", func(t *testing.T) {
		tab := kioskTab(t, device(5), "")
		minted := env.kiosk.Minted()
		tab.Click("sign-off")
		tab.WaitFor("the sign-off", `document.querySelector('[data-testid="lane"]').dataset.signedOff !== undefined`)
		require.Equal(t, "true", tab.Attr("lane", "data-signed-off"), "sign-off: %s", tab.Text("lane"))
		before := env.stack.Sim.Stats().Requests[sim.RouteSubmit]
		refund(tab, "12.36")
		tab.WaitFor("the refusal", `document.querySelector('[data-testid="error"]').dataset.code !== ""`)
		assert.Equal(t, "lane-token-revoked", tab.Attr("error", "data-code"))
		assert.Equal(t, before, env.stack.Sim.Stats().Requests[sim.RouteSubmit], "a revoked token's refund never reaches Payroc")
		assert.Equal(t, minted, env.kiosk.Minted(), "a revoked token is not renewed behind the back office's back")
		assert.Empty(t, harness.Eval[[]any](tab,
			`import('/node_modules/@posrefund/payroc/payroc.js').then(m => m.load()).then(p => p.pending())`),
			"a refused submit leaves nothing pending")
	})

	t.Run("ReloadResumes", func(t *testing.T) {
		tab := kioskTab(t, device(4), "")
		refund(tab, "20.03")
		waitStatus(tab, "inProgress")
		id, key := tab.Attr("status", "data-instruction"), tab.Attr("status", "data-key")
		require.NotEmpty(t, id)
		require.NotEmpty(t, key)

		tab.Reload()
		tab.WaitReady()
		tab.WaitVisible("resume-banner")
		assert.Contains(t, tab.Text("resume-text"), "20.03 USD on "+device(4))
		assert.False(t, tab.Enabled("refund-button"), "no second refund while one is unfinished")
		tab.Click("resume-button")
		waitStatus(tab, "inProgress")
		require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted), "the cardholder taps now")
		waitOutcome(tab, "approved")
		assert.Equal(t, 1, env.stack.Sim.InstructionsFor(key), "one instruction for the key")
		assert.Equal(t, 1, env.stack.Sim.RefundsFor(key), "one refund for the key")
		assert.Empty(t, harness.Eval[[]any](tab,
			`import('/node_modules/@posrefund/payroc/payroc.js').then(m => m.load()).then(p => p.pending())`),
			"nothing is left pending")
	})
}

// An app on an origin the proxy does not allow gets neither the module files nor the API.
func TestOriginNotAllowedIsRefused(t *testing.T) {
	setupOrFail(t)
	proxy := env.stack.Proxy.URL
	tab := env.browser.NewTab(t)
	tab.Navigate(env.otherURL + "/")
	tab.WaitFor("the kiosk to give up", `document.documentElement.dataset.ready === "error"`)

	for _, f := range []string{"/payroc.js", "/wasm_exec.js"} {
		got := harness.Eval[string](tab, `import(`+jsString(proxy+f)+`).then(() => 'loaded', () => 'refused')`)
		assert.Equal(t, "refused", got, "importing %s from another origin", f)
	}
	got := harness.Eval[string](tab, `fetch(`+jsString(proxy+"/payroc.wasm")+`).then(r => 'HTTP ' + r.status, () => 'refused')`)
	assert.Equal(t, "refused", got, "fetching payroc.wasm from another origin")

	// Its own copy of the module loads (same origin), but no call reaches the proxy, let alone Payroc.
	before := env.stack.Sim.Stats().Requests[sim.RouteSubmit]
	code := harness.Eval[string](tab, `import('/node_modules/@posrefund/payroc/payroc.js')
		.then(m => m.load())
		.then(p => p.refund({serialNumber: '`+env.stack.Sim.Devices()[0].SerialNumber+`', processingTerminalId: '1234001',
			order: {orderId: 'ORDER-1001', description: 'Return', amount: 1234, currency: 'USD'}}))
		.then(() => 'sent', (err) => err.code)`)
	assert.Equal(t, "network-error", code, "the browser refuses the proxy's answer to a disallowed origin")
	assert.Equal(t, before, env.stack.Sim.Stats().Requests[sim.RouteSubmit], "nothing reached the simulator")

	// What the browser saw, at the HTTP level: no CORS grant for this origin, a grant for the kiosk's.
	for _, tc := range []struct{ origin, want string }{{env.otherURL, ""}, {env.kioskURL, env.kioskURL}} {
		req, _ := http.NewRequest("GET", proxy+"/payroc.js", nil)
		req.Header.Set("Origin", tc.origin)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, tc.want, res.Header.Get("Access-Control-Allow-Origin"), "Access-Control-Allow-Origin for %s", tc.origin)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
