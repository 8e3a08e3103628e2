package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// Issue 19, point 1: no refund the cashier did not mean from a keypress.

// heldEnter sends Enter as a key held down does after its first press: n keydowns marked repeat
// (KeyboardEvent.repeat), then the keyup.
func heldEnter(p *pos, n int) {
	p.t.Helper()
	repeat := true
	p.Do("holding Enter down", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		key := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", Text: "\r", UnmodifiedText: "\r",
			WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13, AutoRepeat: &repeat}
		for range n {
			if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, key); err != nil {
				return err
			}
		}
		_, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter",
			Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13})
		return err
	}))
}

// submittedAmounts lists the order.amount of every submit the page sent, in order.
func submittedAmounts(t *testing.T, net *harness.Recorder) []int64 {
	t.Helper()
	out := []int64{}
	for _, x := range net.Find("") {
		if x.Method != "POST" || !strings.Contains(x.URL, "/refund-instructions") {
			continue
		}
		var body struct {
			Order struct{ Amount int64 } `json:"order"`
		}
		require.NoError(t, json.Unmarshal([]byte(x.RequestBody), &body), "submit body %q", x.RequestBody)
		out = append(out, body.Order.Amount)
	}
	return out
}

// A held Enter (its repeated keydowns) submits nothing from the amount field and confirms nothing on the
// confirmation's Refund button; the cashier's own next Enter still works.
func TestHeldEnterNeverSubmitsOrConfirms(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()

	p.fill("7.00")
	heldEnter(p, 3)
	// Had a repeat submitted 7.00, the form would be locked under its refund and this typing would fail.
	p.fill("150.00")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitPhase("confirming")
	p.waitDeliberate("confirm")
	p.exec(`document.querySelector('[data-testid="confirm-button"]').focus()`)
	heldEnter(p, 3)
	p.Click("confirm-back")
	p.waitPhase("idle")

	p.fill("8.00")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitStatus("approved")
	assert.Equal(t, []int64{800}, submittedAmounts(t, net), "only the refund the cashier pressed Enter for once is sent")
}

// After a canceled or failed refund the focus is on the outcome, never on Refund: the Enter pressed again
// (on the Cancel button that ended it, say) sends nothing, and sending the same amount again takes moving
// to the form first.
func TestFocusGoesToTheOutcomeNotToRefund(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, amount, status string
		cents                int64
	}{
		{"Canceled", "7.03", "canceled", 703},
		{"Failed", "7.02", "failed", 702},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := openPOS(t)
			net := p.RecordNetwork()
			p.fill(tc.amount)
			p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
			if tc.status == "canceled" {
				p.waitStatus("inProgress")
				p.WaitEnabled("cancel-button")
				p.exec(`document.querySelector('[data-testid="cancel-button"]').focus()`)
				p.Do("pressing Enter on Cancel", chromedp.KeyEvent(kb.Enter))
			}
			p.waitStatus(tc.status)
			assert.Equal(t, "status", p.activeTestID(), "after the outcome the focus is on it")
			p.Do("pressing Enter again", chromedp.KeyEvent(kb.Enter))

			// Had that Enter sent the refund again, the form would be locked (or the reader busy) and the
			// next refund would never be approved.
			p.fill("8.00")
			p.Click("refund-button")
			p.waitStatus("approved")
			want := []int64{tc.cents, 800}
			assert.Equal(t, want, submittedAmounts(t, net), "the Enter after the outcome sent nothing")
		})
	}
}

// The same amount on the same reader soon after an approved refund asks first (the lane's duplicateWindow,
// 600 s by default): Back sends nothing; a deliberate "Yes, refund it again" sends it; another amount is not
// asked about.
func TestSameRefundAgainAsksFirst(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	p.fill("12.34")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitStatus("approved")

	p.fill("12.34")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitPhase("duplicate")
	assert.True(t, p.Visible("duplicate"))
	assert.Regexp(t, `^\$12\.34 was refunded to the card ending 7062 at \d{1,2}:\d\d( [AP]M)?\. Refund it again\?$`, p.Text("duplicate-text"))
	assert.Equal(t, "Yes, refund $12.34 again", p.Text("duplicate-button"))
	assert.Equal(t, "duplicate-title", harness.Eval[string](p.Tab, `document.activeElement?.id ?? ""`), "the question has the focus")
	p.audit("duplicate question")
	p.Click("duplicate-back")
	p.waitPhase("idle")
	assert.Equal(t, "amount", p.activeTestID(), "back in the amount field")
	assert.Equal(t, []int64{1234}, submittedAmounts(t, net), "Back sends nothing")

	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitPhase("duplicate")
	p.waitDeliberate("duplicate")
	p.Click("duplicate-button")
	p.waitStatus("approved")
	assert.Equal(t, []int64{1234, 1234}, submittedAmounts(t, net), "the deliberate answer sends it again")

	p.fill("12.35")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitStatus("approved")
	assert.Equal(t, []int64{1234, 1234, 1235}, submittedAmounts(t, net), "another amount is not asked about")
}
