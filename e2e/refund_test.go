package e2e

import (
	"strings"
	"testing"
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
	trail := p.trail()
	if !inOrder(trail, []string{
		"idle|todo,todo,todo",
		"sending|active,todo,todo",
		"inProgress|done,active,todo",
		"approved|done,done,done",
	}) {
		t.Errorf("status|timeline went %q, want idle → sending → inProgress (waiting for the card) → approved", trail)
	}

	if got := p.stepStates(); got != [3]string{"done", "done", "done"} {
		t.Errorf("timeline after approval = %v, want all done", got)
	}
	r := p.receipt()
	if r.Outcome != "approved" || !strings.Contains(r.OutcomeText, "APPROVED") {
		t.Errorf("receipt outcome = %q (%q), want approved", r.Outcome, r.OutcomeText)
	}
	if !refundIDPattern.MatchString(r.RefundID) {
		t.Errorf("receipt refund id = %q, want a 10-character Payroc refund id", r.RefundID)
	}
	if !strings.Contains(r.Amount, "12.34") {
		t.Errorf("receipt amount = %q, want 12.34", r.Amount)
	}
	if r.Operator != "cashier-1" {
		t.Errorf("receipt operator = %q, want cashier-1", r.Operator)
	}
	if !strings.Contains(r.Card, "*") || r.Card == "—" {
		t.Errorf("receipt card = %q, want a masked card number", r.Card)
	}
	if p.Enabled("cancel-button") {
		t.Error("Cancel is still enabled after the refund finished")
	}
	if !p.Enabled("refund-button") {
		t.Error("Refund is not enabled again after the refund finished")
	}

	// Exactly one refund for the key the page sent, and it is the one on the receipt.
	posts := net.Find("/refund-instructions")
	var key string
	for _, x := range posts {
		if x.Method == "POST" {
			key = header(x.RequestHeaders, "Idempotency-Key")
		}
	}
	if key == "" {
		t.Fatalf("no submit with an Idempotency-Key among %d requests", len(posts))
	}
	if n := refundsOf(key); n != 1 {
		t.Errorf("simulator refunds for key %s = %d, want 1", key, n)
	}
	if got := net.Find("/refunds/" + r.RefundID); len(got) == 0 {
		t.Errorf("the page never read GET /v1/refunds/%s", r.RefundID)
	}
	if len(p.pending()) != 0 {
		t.Errorf("pending() after an approved refund = %+v, want none", p.pending())
	}
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
