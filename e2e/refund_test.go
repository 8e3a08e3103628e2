package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenario 1: fill the form, click Refund, the timeline moves, the receipt shows the refund id.
func TestRefundApprovedThroughThePage(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	p.Type("operator", "cashier-1")
	p.recordTrail()
	p.refund("12.34")
	p.waitStatus("approved")

	// The timeline moved step by step: sent, waiting for the card, result.
	assert.True(t, inOrder(p.trail(), []string{
		"idle|todo,todo,todo",
		"sending|active,todo,todo",
		"inProgress|done,active,todo",
		"approved|done,done,done",
	}), "status|timeline went %q, want idle → sending → inProgress (waiting for the card) → approved", p.trail())
	assert.Equal(t, [3]string{"done", "done", "done"}, p.stepStates(), "timeline after approval")

	r := p.receipt()
	assert.Equal(t, "approved", r.Outcome)
	assert.Contains(t, r.OutcomeText, "APPROVED")
	assert.Regexp(t, refundIDPattern, r.RefundID, "a 10-character Payroc refund id")
	assert.Contains(t, r.Amount, "12.34")
	assert.Equal(t, "cashier-1", r.Operator)
	assert.Equal(t, "Visa Credit •••• 7062", r.Card, "the card's type and last four digits only")
	assert.False(t, p.Enabled("cancel-button"), "Cancel after the refund finished")
	assert.True(t, p.Enabled("refund-button"), "Refund again after the refund finished")

	// Exactly one refund for the key the page sent, and it is the one on the receipt.
	keys := submits(net)
	require.Len(t, keys, 1)
	assert.Equal(t, 1, refundsOf(keys[0]))
	assert.NotEmpty(t, net.Find("/refunds/"+r.RefundID), "the page read GET /v1/refunds/%s", r.RefundID)
	assert.Empty(t, p.pending())
}

// header reads a header case-insensitively from a recorded exchange.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
