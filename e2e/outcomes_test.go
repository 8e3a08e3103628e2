package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 2: the simulator's outcomes by the amount's last two digits, as the cashier sees them: one message
// per outcome (the status), never a second box repeating it.
func TestRefundOutcomesThroughThePage(t *testing.T) {
	t.Parallel()

	t.Run("DeclinedEnding01", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.refund("10.01")
		p.waitStatus("declined")
		s := p.Text("status")
		assert.Contains(t, strings.ToLower(s), "declined")
		assert.Contains(t, s, "No money was refunded")
		assert.Contains(t, s, "another card", "the status says what to do next")
		assert.False(t, p.Visible("error"), "one message per outcome: no second red box")
		r := p.receipt()
		assert.Equal(t, "declined", r.Outcome)
		assert.Contains(t, r.OutcomeText, "DECLINED")
		assert.Contains(t, r.Response, "(D)", "the issuer's D")
		assert.Equal(t, "failed", p.stepStates()[2], "the result step")
	})

	t.Run("DeviceFailureEnding02", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.refund("10.02")
		p.waitStatus("failed")
		s := p.Text("status")
		assert.Contains(t, s, "Device error: the card reader stopped responding", "the device's own errorMessage reaches the cashier")
		assert.Contains(t, s, "No money was refunded")
		assert.Contains(t, s, "press Refund to try again", "the status says what to do next")
		assert.False(t, p.Visible("error"), "one message per outcome: no second red box")
		assert.False(t, p.Visible("receipt"), "no receipt for a failed refund")
		assert.Empty(t, p.pending(), "nothing unfinished after a final failure")
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
		assert.Contains(t, p.Text("status"), "Canceled")
		assert.False(t, p.Visible("receipt"), "no receipt for a canceled refund")
		assert.Equal(t, 0, refundsOf(key))
		assert.False(t, p.Visible("cancel-button"), "no Cancel once it is over")
		assert.False(t, p.Enabled("cancel-button"))
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
		assert.Equal(t, "approved", r.Outcome)
		assert.Regexp(t, refundIDPattern, r.RefundID)
		assert.Equal(t, 1, refundsOf(key))
	})

	t.Run("ApprovedAfterARepollEnding04", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		net := p.RecordNetwork()
		p.refund("10.04")
		p.waitStatus("approved")
		r := p.receipt()
		assert.Equal(t, "approved", r.Outcome)
		assert.Regexp(t, refundIDPattern, r.RefundID)
		var polls int
		for _, x := range net.Find("") {
			if x.Method == "GET" && strings.Contains(x.URL, "/v1/refund-instructions/") {
				polls++
			}
		}
		require.GreaterOrEqual(t, polls, 2, "status GETs: the first hold ends unchanged")
	})
}
