package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
)

// Issue 10, point 1: the cashier sees the amount they are about to refund, formatted in the lane's currency,
// as they type it, on the Refund button, and large in the progress panel for the whole refund.
func TestAmountIsShownAsTheCashierTypesAndThroughoutTheRefund(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	assert.Equal(t, "amount", p.activeTestID(), "the amount field has the focus on load")
	assert.Equal(t, "USD", p.Text("currency"), "a one-currency lane shows its currency as text")
	assert.Equal(t, "SPAN", tagName(p, "currency"), "no drop-down with one choice")
	assert.False(t, p.Visible("cancel-button"), "no Cancel at idle")

	p.Type("amount", "1000")
	p.WaitText("amount-preview", "$1,000.00")
	assert.Equal(t, "Refund $1,000.00", p.Text("refund-button"))
	p.Type("amount", "12.34")
	p.WaitText("amount-preview", "$12.34")
	assert.Equal(t, "Refund $12.34", p.Text("refund-button"))

	p.Type("amount", "20.03") // ending 03: the device waits for a card until the test finishes it
	p.Click("refund-button")
	p.waitStatus("inProgress")
	id, key := p.waitInstruction()
	assert.Equal(t, "$20.03", p.Text("progress-amount"), "the amount stays large in the progress panel")
	assert.Contains(t, p.Text("progress-device"), p.device.SerialNumber)
	assert.Equal(t, p.Value("order-id"), p.Text("progress-order"))
	p.WaitText("elapsed", "0:0")
	assert.True(t, p.Visible("cancel-button"))

	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	p.waitStatus("approved")
	assert.Equal(t, 1, refundsOf(key))
	assert.False(t, p.Visible("elapsed"), "no clock once the refund is over")
}

func tagName(p *pos, id string) string {
	p.t.Helper()
	return evalString(p, `document.querySelector('[data-testid="`+id+`"]').tagName`)
}

// Issue 10, point 1: at or above the lane's confirmAbove the first Refund (or Enter) opens a confirmation that
// names amount and reader; it needs a second, deliberate press of another control (one within 500 ms of the
// first is a double tap and is ignored); Escape or Back returns to the form; nothing is sent before.
func TestConfirmationAtOrAboveTheThreshold(t *testing.T) {
	t.Parallel()
	p := openPOS(t) // the proxy's default: confirm from 100.00
	net := p.RecordNetwork()

	p.fill("99.99")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitStatus("approved")
	assert.Len(t, submits(net), 1, "below the threshold: no confirmation")

	p.fill("100.00")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	p.waitPhase("confirming")
	assert.Equal(t, "$100.00", p.Text("confirm-amount"))
	assert.Contains(t, p.Text("confirm"), p.device.SerialNumber, "the confirmation names the reader")
	assert.Equal(t, "Yes, refund $100.00", p.Text("confirm-button"))
	assert.True(t, p.disabled("amount"), "the amount cannot change under the confirmation")

	p.Do("pressing Escape", chromedp.KeyEvent(kb.Escape))
	p.waitPhase("idle")
	assert.False(t, p.Visible("confirm"))
	assert.Equal(t, "amount", p.activeTestID(), "back in the amount field")

	// A double tap: Refund, then at once the confirm button: the second press is ignored.
	p.exec(`document.querySelector('[data-testid="refund-button"]').click()`)
	p.waitPhase("confirming")
	p.exec(`document.querySelector('[data-testid="confirm-button"]').click()`)
	assert.Equal(t, "confirming", p.phase(), "a press within 500 ms of the first must not confirm")
	p.Click("confirm-back")
	p.waitPhase("idle")
	assert.Len(t, submits(net), 1, "nothing sent while confirming")

	p.Click("refund-button")
	p.waitPhase("confirming")
	p.waitDeliberate("confirm")
	p.Click("confirm-button")
	p.waitStatus("approved")
	keys := submits(net)
	require.Len(t, keys, 2)
	assert.Equal(t, 1, refundsOf(keys[1]))
	assert.Contains(t, p.receipt().Amount, "100.00")
}

// The threshold comes from the lane token when it has one: 0 confirms every refund, 50.00 confirms 50.00
// but not 49.99.
func TestConfirmationThresholdFromTheLaneToken(t *testing.T) {
	t.Parallel()
	t.Run("Zero", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t, withLane(laneSpec{confirmAbove: int64p(0)}))
		p.refund("0.50")
		p.waitPhase("confirming")
		assert.Equal(t, "$0.50", p.Text("confirm-amount"))
	})
	t.Run("Claim", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t, withLane(laneSpec{confirmAbove: int64p(5000)}))
		p.refund("49.99")
		p.waitStatus("approved")
		p.refund("50.00")
		p.waitPhase("confirming")
	})
}

// Issue 10, point 1: ambiguous input gets a suggestion with both readings as buttons, never a refund; a
// currency symbol or code and spaces are ignored; grouping is accepted where it is unambiguous.
func TestAmbiguousAmountAsksWhichWasMeant(t *testing.T) {
	t.Parallel()
	p := openPOS(t, withLane(laneSpec{maxAmount: 500000})) // up to $5,000.00: the readings below are all refundable
	net := p.RecordNetwork()
	for _, text := range []string{"1,000", "1.000"} {
		p.Type("amount", text)
		p.WaitVisible("amount-suggest")
		assert.Equal(t, "$1,000.00", p.Text("amount-suggest-a"), "%s read with grouping", text)
		assert.Equal(t, "$1.00", p.Text("amount-suggest-b"), "%s read with decimals", text)
		assert.Contains(t, p.Text("amount-preview"), "$1,000.00 or $1.00")
		assert.Equal(t, "Refund", p.Text("refund-button"), "no amount on the button while it is unclear")
	}
	assert.False(t, p.Enabled("refund-button"), "Refund waits until the cashier says which was meant")
	p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
	assert.Equal(t, "idle", p.phase(), "Enter sends nothing either")
	assert.Empty(t, submits(net), "an ambiguous amount is never sent")

	p.Click("amount-suggest-b")
	assert.Equal(t, "1.00", p.Value("amount"))
	p.WaitText("amount-preview", "$1.00")
	assert.False(t, p.Visible("amount-suggest"))
	assert.Empty(t, p.Text("amount-error"))

	for text, want := range map[string]string{
		"1,000.50": "$1,000.50", "1.000,50": "$1,000.50", "$12.50": "$12.50", "12.50 USD": "$12.50", "1 234,5": "$1,234.50",
	} {
		p.Type("amount", text)
		p.WaitText("amount-preview", want)
		assert.False(t, p.Visible("amount-suggest"), "%q is not ambiguous", text)
	}
}

// An amount that reads one way and means another is refused, never guessed: a space or an apostrophe only
// groups thousands in threes, and a symbol or code of another currency is not this till's money. A lone
// comma before three digits in a two-decimal currency can only group thousands.
func TestAmountThatCouldMeanAnotherIsRefused(t *testing.T) {
	t.Parallel()
	p := openPOS(t, withLane(laneSpec{maxAmount: 500000})) // up to $5,000.00: the readings below are all refundable
	net := p.RecordNetwork()
	for text, want := range map[string]string{
		"12 50": "grouped in threes", "9 9": "grouped in threes", "12'50": "grouped in threes",
		"CA$5": "refunds in USD only", "€5": "refunds in USD only", "12,34 €": "refunds in USD only", "EUR 5": "refunds in USD only",
	} {
		p.Type("amount", text)
		p.WaitText("amount-preview", want) // as it is typed
		assert.False(t, p.Enabled("refund-button"), "%q: Refund waits for an amount that can be sent", text)
		assert.NotContains(t, p.Text("refund-button"), "$", "%q: the button names no amount", text)
	}
	assert.Empty(t, submits(net), "no such amount reaches the reader")
	p.Type("amount", "1,234")
	p.WaitText("amount-preview", "$1,234.00")
	assert.False(t, p.Visible("amount-suggest"), "1,234 in dollars is not ambiguous")
}
