package e2e

import (
	"strings"
	"testing"

	"github.com/posrefund/cloud/payroc/sim"
)

// Scenario 5: bad input gets a clear message beside the field, and nothing reaches the simulator. Not
// parallel: "nothing reached the simulator" is read from its global counters.
func TestBadInputIsRefusedBeforeThePaymentService(t *testing.T) {
	// The lane may refund at most 50.00 USD.
	p := openPOS(t, withLane(laneSpec{maxAmount: 5000}))
	net := p.RecordNetwork()
	before := env.stack.Sim.Stats()

	for _, tc := range []struct {
		name, amount, message string
	}{
		{"Empty", "", "Enter the amount"},
		{"Zero", "0", "more than zero"},
		{"ZeroWithDecimals", "0.00", "more than zero"},
		{"Negative", "-5", "minus"},
		{"TooManyDecimals", "1.234", "at most 2 digits"},
		{"NotANumber", "12abc", "digits"},
		{"AboveTheLaneMaximum", "50.01", "most this till may refund is $50.00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			p.refund(tc.amount)
			p.WaitText("amount-error", tc.message)
			if got := p.Attr("amount", "aria-invalid"); got != "true" {
				t.Errorf("amount aria-invalid = %q, want true", got)
			}
			if st := p.status(); st != "idle" {
				t.Errorf("status after refused input = %q (%q), want idle", st, p.Text("status"))
			}
			if !p.Enabled("refund-button") {
				t.Error("Refund is disabled after refused input")
			}
			if focused := p.activeTestID(); focused != "amount" {
				t.Errorf("focus after refused input is on %q, want the amount field", focused)
			}
		})
	}
	for _, x := range net.Find("") {
		if strings.Contains(x.URL, "/v1/") {
			t.Errorf("the page sent %s %s for input it should have refused", x.Method, x.URL)
		}
	}

	// Another currency than the lane's: the page only offers the lane's, so a tampered (or stale) form sends
	// it; the proxy refuses it as out of scope before Payroc, and the page says so plainly.
	t.Run("AnotherCurrency", func(t *testing.T) {
		p := p.sub(t)
		p.exec(`(() => { const s = document.querySelector('[data-testid="currency"]');
			const o = document.createElement('option'); o.value = o.textContent = 'EUR'; s.append(o); })()`)
		p.Select("currency", "EUR")
		p.refund("10.00")
		p.waitStatus("error")
		if code := p.Attr("error", "data-code"); code != "out-of-scope" {
			t.Errorf("error code = %q, want out-of-scope", code)
		}
		if msg := p.Text("error-message"); !strings.Contains(msg, "currency") {
			t.Errorf("error message = %q, want it to name the currency among the limits", msg)
		}
		if p.Text("error-action") == "" {
			t.Error("no next step shown for out-of-scope")
		}
		if p.Visible("resume-banner") || len(p.pending()) != 0 {
			t.Errorf("a refused submit left an unfinished refund behind: %+v", p.pending())
		}
	})

	after := env.stack.Sim.Stats()
	if d := after.Requests[sim.RouteSubmit] - before.Requests[sim.RouteSubmit]; d != 0 {
		t.Errorf("the simulator received %d submits for refused input, want 0", d)
	}
	if d := after.InstructionsCreated - before.InstructionsCreated; d != 0 {
		t.Errorf("the simulator created %d instructions for refused input, want 0", d)
	}
}
