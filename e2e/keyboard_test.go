package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
)

// Scenario 10: a whole refund without the mouse: the amount has the focus on load; Tab through the form in
// its visual order, type, press Enter; then start the next refund from the receipt with the keyboard too.
func TestKeyboardOnlyRefund(t *testing.T) {
	t.Parallel()
	p := openPOS(t)

	press := func(what, keys string) {
		t.Helper()
		p.Do(what, chromedp.KeyEvent(keys))
	}
	tabTo := func(want string) {
		t.Helper()
		press("pressing Tab", kb.Tab)
		if got := p.activeTestID(); got != want {
			p.Fatalf("after Tab the focus is on %q, want %q (focus order: device, amount, order-id, new-order-id, description, operator, refund-button)", got, want)
		}
	}

	assert.Equal(t, "amount", p.activeTestID(), "the amount field has the focus on load")
	assert.Equal(t, p.device.SerialNumber, p.Value("device"), "the lane's only reader is chosen")
	press("typing the amount", "15.00")
	tabTo("order-id")
	tabTo("new-order-id")
	press("pressing Enter on New number", kb.Enter)
	orderID := p.Value("order-id")
	assert.True(t, strings.HasPrefix(orderID, "ORDER-"), "order id after New number = %q", orderID)
	tabTo("description")
	tabTo("operator")
	press("typing the operator", "cashier-10")
	tabTo("refund-button")
	assert.Equal(t, "Refund $15.00", p.Text("refund-button"))
	press("pressing Enter on Refund", kb.Enter)

	p.waitStatus("approved")
	r := p.receipt()
	assert.Equal(t, "approved", r.Outcome)
	assert.Equal(t, "cashier-10", r.Operator)
	assert.Regexp(t, refundIDPattern, r.RefundID)
	assert.Equal(t, orderID, r.OrderID)
	// The receipt takes the focus (screen readers announce it); the next refund is a few keys away.
	for i := 0; i < 4 && p.activeTestID() != "new-refund-button"; i++ {
		press("pressing Tab", kb.Tab)
	}
	if got := p.activeTestID(); got != "new-refund-button" {
		p.Fatalf("Tab from the receipt never reached New refund (focus on %q)", got)
	}
	press("pressing Enter on New refund", kb.Enter)
	p.WaitHidden("receipt")
	assert.Equal(t, "amount", p.activeTestID(), "after New refund the focus is back in the amount field")
}

// A refund canceled from the keyboard: Cancel is reachable with Tab while the device waits.
func TestKeyboardOnlyCancel(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	p.Do("typing the amount and pressing Enter", chromedp.KeyEvent("16.03"+kb.Enter))
	p.waitStatus("inProgress")
	p.WaitEnabled("cancel-button")
	for i := 0; i < 12 && p.activeTestID() != "cancel-button"; i++ {
		p.Do("pressing Tab", chromedp.KeyEvent(kb.Tab))
	}
	if got := p.activeTestID(); got != "cancel-button" {
		p.Fatalf("Tab never reached Cancel refund (focus on %q)", got)
	}
	p.Do("pressing Enter on Cancel", chromedp.KeyEvent(kb.Enter))
	p.waitStatus("canceled")
}
