package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Scenario 10: a whole refund without the mouse: Tab through the form in its visual order, type, press
// Enter; then start the next refund from the receipt with the keyboard too.
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
			p.Fatalf("after Tab the focus is on %q, want %q (focus order: device, amount, currency, order-id, new-order-id, description, operator, refund-button)", got, want)
		}
	}

	tabTo("device")
	if got := p.Value("device"); got != p.device.SerialNumber {
		t.Fatalf("card reader preselected = %q, want the lane's only device %s", got, p.device.SerialNumber)
	}
	tabTo("amount")
	press("typing the amount", "15.00")
	tabTo("currency")
	tabTo("order-id")
	tabTo("new-order-id")
	press("pressing Enter on New number", kb.Enter)
	orderID := p.Value("order-id")
	if !strings.HasPrefix(orderID, "ORDER-") {
		t.Errorf("order id after New number = %q, want a generated ORDER-… id", orderID)
	}
	tabTo("description")
	tabTo("operator")
	press("typing the operator", "cashier-10")
	tabTo("refund-button")
	press("pressing Enter on Refund", kb.Enter)

	p.waitStatus("approved")
	r := p.receipt()
	if r.Outcome != "approved" || r.Operator != "cashier-10" || !refundIDPattern.MatchString(r.RefundID) {
		t.Errorf("receipt = %+v, want approved for cashier-10 with a refund id", r)
	}
	if r.OrderID != orderID {
		t.Errorf("receipt order = %q, want %q", r.OrderID, orderID)
	}
	// The receipt takes the focus (screen readers announce it); the next refund is a few keys away.
	for i := 0; i < 4 && p.activeTestID() != "new-refund-button"; i++ {
		press("pressing Tab", kb.Tab)
	}
	if got := p.activeTestID(); got != "new-refund-button" {
		t.Fatalf("Tab from the receipt never reached New refund (focus on %q)", got)
	}
	press("pressing Enter on New refund", kb.Enter)
	p.WaitHidden("receipt")
	if got := p.activeTestID(); got != "amount" {
		t.Errorf("after New refund the focus is on %q, want the amount field", got)
	}
}

// A refund canceled from the keyboard: Cancel is reachable with Tab while the device waits.
func TestKeyboardOnlyCancel(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	p.Do("focusing the amount", chromedp.Focus(chromedpTestID("amount")))
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
