package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// failFirstWatch makes the page's first status read of an instruction answer 403 (an answer the page does
// not retry), as a lost watch does, while the reader still waits for the card.
const failFirstWatch = `(() => { const f = globalThis.fetch; let failed = false;
	globalThis.fetch = function (input, init) {
		const url = String(input?.url ?? input);
		const method = String(init?.method ?? input?.method ?? 'GET').toUpperCase();
		if (!failed && method === 'GET' && /\/refund-instructions\/[^/?]+/.test(url)) {
			failed = true;
			return Promise.resolve(new Response(JSON.stringify({ type: 'urn:proxy#forbidden', title: 'Forbidden', status: 403 }),
				{ status: 403, headers: { 'Content-Type': 'application/problem+json' } }));
		}
		return f.apply(this, arguments);
	}; })();`

// Issue 17 and 19: the page never leaves a live refund without a working Cancel. The watch of a refund
// waiting for the card fails: the page offers Resume, and Cancel too, and Cancel cancels it on the reader.
func TestALiveRefundAlwaysHasCancel(t *testing.T) {
	t.Parallel()
	p := openPOS(t, beforeLoad(func(tab *harness.Tab) { tab.OnNewDocument(failFirstWatch) }))
	p.refund("56.03") // ending 03: no card is ever presented
	st := p.waitStatus("error", "inProgress")
	require.Equal(t, "error", st, "the stand-in watch failure did not end the watch")
	_, key := p.waitInstruction()
	require.NotEmpty(t, p.pending(), "the refund is still live")
	assert.True(t, p.Visible("resume-button"))
	require.NotEmpty(t, p.device.Label)
	assert.Contains(t, p.Text("resume-text"), p.device.Label, "the banner names the reader by its label, as the form does")
	assert.Contains(t, p.Text("resume-text"), evalString(p, `new Date().toLocaleString('en-US', { dateStyle: 'medium' })`),
		"the banner's date in the one format of the language, as on the receipt")
	p.WaitVisible("cancel-button")
	p.WaitEnabled("cancel-button")
	assert.True(t, p.inView("cancel-button"))
	p.audit("watch ended, Cancel beside Resume")

	p.Click("cancel-button")
	p.waitStatus("canceled")
	assert.Equal(t, 1, instructionsOf(key))
	assert.Zero(t, refundsOf(key))
	assert.Empty(t, p.pending())
}

// Issue 19, point 3, one owner: a refund whose run ended in an error in the tab that ran it (still open, its
// cashier offered Resume) is not taken over and sent again by another tab on its own, as if that tab had
// closed: the other tab offers it too, and nobody runs it until a cashier chooses.
func TestARefundThatFailedInItsTabIsNotRunAgainElsewhere(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	first := openPOS(t, onDevice(dev), labelled("first-tab"), beforeLoad(func(tab *harness.Tab) { tab.OnNewDocument(failFirstWatch) }))
	second := openPOS(t, onDevice(dev), sameBrowser(first), labelled("second-tab"))
	first.refund("57.03") // ending 03: the reader waits for a card until the refund is canceled
	require.Equal(t, "error", first.waitStatus("error", "inProgress"), "the stand-in watch failure did not end the run")
	_, key := first.waitInstruction()
	first.WaitVisible("resume-button")

	second.WaitVisible("resume-button")
	assert.Equal(t, "idle", second.phase(), "the other tab runs nothing on its own")
	assert.NotContains(t, second.Text("resume-text"), "was closed", "no tab closed")
	assert.Equal(t, 1, instructionsOf(key))

	first.Click("cancel-button")
	first.waitStatus("canceled")
	assert.Equal(t, 1, instructionsOf(key))
	assert.Zero(t, refundsOf(key))
}
