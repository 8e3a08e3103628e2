package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
)

// contrastOf is the WCAG contrast ratio of the element's text on its background, with its opacity applied
// over the white card it sits on.
const contrastOf = `((e) => {
	const cs = getComputedStyle(e);
	const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
	const a = Number(cs.opacity);
	const over = (c) => c.map((v) => v * a + 255 * (1 - a));
	const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const [l1, l2] = [lum(over(rgb(cs.color))), lum(over(rgb(cs.backgroundColor)))].sort((x, y) => y - x);
	return (l1 + 0.05) / (l2 + 0.05);
})(document.querySelector('[data-testid="refund-button"]'))`

// Issue 19, point 4: after the confirmation the focus goes to the progress heading; the disabled "Refund
// running…" button is readable (4.5:1); the focused receipt heading prints without its focus ring; the
// receipt's date has the one format of the language.
func TestFocusContrastAndPrintAfterTheConfirmation(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	p.refund("150.03") // over the proxy's default threshold: the confirmation asks first
	p.WaitVisible("confirm-button")
	p.waitDeliberate("confirm")
	p.exec(`document.querySelector('[data-testid="confirm-button"]').focus()`)
	p.Do("pressing Enter on the confirmation", chromedp.KeyEvent(kb.Enter)) // the keyboard, as a cashier at a till
	p.waitStatus("inProgress")
	id, _ := p.waitInstruction()
	assert.Equal(t, "progress-title", evalString(p, `document.activeElement?.id ?? ''`), "the focus after confirming")
	assert.Contains(t, p.Text("refund-button"), "running")
	ratio := harness.Eval[float64](p.Tab, contrastOf)
	assert.GreaterOrEqual(t, ratio, 4.5, "the disabled Refund running… button's contrast")

	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	p.waitStatus("approved")
	require.Equal(t, "receipt-title", evalString(p, `document.activeElement?.id ?? ''`), "the focus on the outcome")
	p.printMedia(true)
	t.Cleanup(func() { p.printMedia(false) })
	assert.Equal(t, "none", evalString(p, `getComputedStyle(document.getElementById('receipt-title')).outlineStyle`),
		"the focus ring of the receipt heading is not printed")
	want := evalString(p, `new Date().toLocaleString('en-US', { dateStyle: 'medium' })`)
	assert.Contains(t, p.receipt().DateTime, want)
}
