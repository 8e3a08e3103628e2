package e2e

import (
	"strings"
	"testing"
)

// Scenario 2: the simulator's outcomes by the amount's last two digits, as the cashier sees them.
func TestRefundOutcomesThroughThePage(t *testing.T) {
	t.Parallel()

	t.Run("DeclinedEnding01", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.refund("10.01")
		p.waitStatus("declined")
		if s := p.Text("status"); !strings.Contains(strings.ToLower(s), "declined") || !strings.Contains(s, "No money was refunded") {
			t.Errorf("status = %q, want a decline that says no money was refunded", s)
		}
		r := p.receipt()
		if r.Outcome != "declined" || !strings.Contains(r.OutcomeText, "DECLINED") {
			t.Errorf("receipt outcome = %q (%q), want declined", r.Outcome, r.OutcomeText)
		}
		if !strings.Contains(r.Response, "(D)") {
			t.Errorf("receipt response = %q, want the issuer's D", r.Response)
		}
		if got := p.Attr("error", "data-code"); got != "declined" || !p.Visible("error") {
			t.Errorf("error box code = %q (visible %v), want declined shown", got, p.Visible("error"))
		}
		if got := p.stepStates(); got[2] != "failed" {
			t.Errorf("timeline = %v, want the result step failed", got)
		}
	})

	t.Run("DeviceFailureEnding02", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.refund("10.02")
		p.waitStatus("failed")
		s := p.Text("status")
		// The device's own errorMessage reaches the cashier.
		if !strings.Contains(s, "Device error: the card reader stopped responding") {
			t.Errorf("status = %q, want the device's error message", s)
		}
		if !strings.Contains(s, "No money was refunded") {
			t.Errorf("status = %q, want it to say no money was refunded", s)
		}
		if !p.Visible("error") || p.Text("error-action") == "" {
			t.Errorf("error box visible %v with action %q, want what to do next", p.Visible("error"), p.Text("error-action"))
		}
		if p.Visible("receipt") {
			t.Error("a receipt is shown for a failed refund")
		}
		if len(p.pending()) != 0 {
			t.Errorf("pending() after a final failure = %+v, want none", p.pending())
		}
	})

	t.Run("CancelWonEnding03", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.refund("10.03")
		p.waitStatus("inProgress")
		_, key := p.waitInstruction()
		p.WaitEnabled("cancel-button")
		p.Click("cancel-button")
		p.waitStatus("canceled")
		if s := p.Text("status"); !strings.Contains(s, "Canceled") {
			t.Errorf("status = %q, want Canceled", s)
		}
		if p.Visible("receipt") {
			t.Error("a receipt is shown for a canceled refund")
		}
		if n := refundsOf(key); n != 0 {
			t.Errorf("simulator refunds for the canceled key = %d, want 0", n)
		}
		if p.Enabled("cancel-button") {
			t.Error("Cancel still enabled after the cancel")
		}
	})

	t.Run("CancelLostTheRaceEnding05", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.refund("10.05")
		p.waitStatus("inProgress")
		_, key := p.waitInstruction()
		p.WaitEnabled("cancel-button")
		p.Click("cancel-button")
		// The device finished as the cancel arrived: the page shows the completed refund, not a cancel.
		p.waitStatus("approved")
		r := p.receipt()
		if r.Outcome != "approved" || !refundIDPattern.MatchString(r.RefundID) {
			t.Errorf("receipt = %+v, want approved with a refund id", r)
		}
		if n := refundsOf(key); n != 1 {
			t.Errorf("simulator refunds for the key = %d, want 1", n)
		}
	})

	t.Run("ApprovedAfterARepollEnding04", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		net := p.RecordNetwork()
		p.refund("10.04")
		p.waitStatus("approved")
		r := p.receipt()
		if r.Outcome != "approved" || !refundIDPattern.MatchString(r.RefundID) {
			t.Errorf("receipt = %+v, want approved with a refund id", r)
		}
		var polls int
		for _, x := range net.Find("") {
			if x.Method == "GET" && strings.Contains(x.URL, "/v1/refund-instructions/") {
				polls++
			}
		}
		if polls < 2 {
			t.Errorf("the page made %d status GETs, want at least 2 (the first hold ends unchanged)", polls)
		}
	})
}
