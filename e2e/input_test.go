package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc/sim"
)

// Scenario 5: bad input gets a clear message as it is typed, Refund waits, and nothing reaches the simulator. Not
// parallel: "nothing reached the simulator" is read from its global counters.
func TestBadInputIsRefusedBeforeThePaymentService(t *testing.T) {
	// The lane may refund at most 50.00 USD.
	p := openPOS(t, withLane(laneSpec{maxAmount: 5000}))
	net := p.RecordNetwork()
	before := env.stack.Sim.Stats()

	for _, tc := range []struct {
		name, amount, message string
	}{
		{"Zero", "0", "more than zero"},
		{"ZeroWithDecimals", "0.00", "more than zero"},
		{"Negative", "-5", "minus"},
		{"TooManyDecimals", "1.2345", "at most 2 digits"},
		{"NotANumber", "12abc", "digits"},
		{"AboveTheLaneMaximum", "50.01", "most this till may refund is $50.00"},
		{"FarAboveTheLaneMaximum", "99999999", "most this till may refund is $50.00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			p.fill(tc.amount)
			// The preview says what is wrong as it is typed, and Refund waits (issue 19, point 2): over the
			// most this till may refund never reads as an amount about to be refunded.
			p.WaitText("amount-preview", tc.message)
			assert.False(t, p.Enabled("refund-button"), "Refund waits for an amount that can be sent")
			assert.Equal(t, "Refund", p.Text("refund-button"), "the button names no amount")
			assert.Equal(t, "true", p.Attr("amount", "aria-invalid"))
			if tc.name == "FarAboveTheLaneMaximum" {
				p.audit("over-maximum preview")
			}
			p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
			assert.Equal(t, "idle", p.status(), "status after refused input (%q)", p.Text("status"))
			assert.Equal(t, "amount", p.activeTestID(), "the focus stays in the amount field")
		})
	}
	t.Run("Empty", func(t *testing.T) {
		p := p.sub(t)
		p.refund("") // nothing typed: Refund says what is missing
		p.WaitText("amount-error", "Enter the amount")
		assert.Equal(t, "true", p.Attr("amount", "aria-invalid"))
		assert.Equal(t, "idle", p.status(), "status after refused input (%q)", p.Text("status"))
		assert.Equal(t, "amount", p.activeTestID(), "the focus goes to the amount field")
	})
	for _, x := range net.Find("") {
		assert.NotContains(t, x.URL, "/v1/", "the page sent %s %s for input it should have refused", x.Method, x.URL)
	}

	// Another currency than the lane token's (a stale /lane, here rewritten on its way to the page): the proxy
	// refuses it as out of scope before Payroc, and the page says so plainly.
	t.Run("AnotherCurrency", func(t *testing.T) {
		p := openPOS(t, beforeLoad(func(tab *harness.Tab) {
			tab.OnNewDocument(`(() => { const f = globalThis.fetch;
				globalThis.fetch = function (input, init) {
					const p = f.apply(this, arguments);
					if (!String(input).endsWith('/lane')) return p;
					return p.then(async (res) => { const lane = await res.json(); lane.currency = 'EUR';
						return new Response(JSON.stringify(lane), { status: res.status, headers: res.headers }); });
				}; })();`)
		}))
		assert.Equal(t, "EUR", p.Text("currency"))
		p.refund("10.00")
		p.waitStatus("error")
		assert.Equal(t, "out-of-scope", p.Attr("error", "data-code"))
		assert.Contains(t, p.Text("error-message"), "currency", "the message names the currency among the limits")
		assert.NotEmpty(t, p.Text("error-action"), "a next step for out-of-scope")
		assert.False(t, p.Visible("resume-banner"))
		assert.Empty(t, p.pending(), "a refused submit leaves nothing unfinished")
	})

	after := env.stack.Sim.Stats()
	assert.Zero(t, after.Requests[sim.RouteSubmit]-before.Requests[sim.RouteSubmit], "submits that reached the simulator")
	assert.Zero(t, after.InstructionsCreated-before.InstructionsCreated, "instructions created for refused input")
}
