package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
)

// Issue 19, point 3: one owner for a running refund. The tab the cashier reloads takes its refund back (with
// Cancel), even when another tab of the till is open; the other tab goes back to showing it read-only and
// says so; a tab that was already open when the refund started shows it running, not "Ready".
func TestReloadedTabTakesItsRefundBack(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	first := openPOS(t, onDevice(dev), labelled("first-tab"))
	second := openPOS(t, onDevice(dev), sameBrowser(first), labelled("second-tab"))

	first.refund("51.03")
	first.waitStatus("inProgress")
	_, key := first.waitInstruction()
	second.waitPhase("watching")
	assert.Equal(t, "watching", second.status(), "the tab open before the refund started shows it running")
	assert.NotContains(t, second.Text("status"), "Ready")

	first.WaitText("elapsed", "0:02") // the customer has waited two seconds
	first.Reload()
	first.WaitReady()
	first.waitStatus("inProgress")
	first.WaitEnabled("cancel-button")
	assert.NotRegexp(t, `0:0[01]$`, first.Text("elapsed"), "the elapsed time counts from the submit, not from the reload")
	assert.NotContains(t, first.Text("resume-text"), "Another tab", "the reloaded tab runs its refund")
	second.waitPhase("watching")
	assert.False(t, second.Visible("cancel-button"), "one owner: the other tab cannot cancel")
	assert.Contains(t, second.Text("resume-text"), "Another tab", "the other tab says who runs the refund")
	assert.NotContains(t, second.Text("resume-text"), "reloaded")
	second.audit("watching after the reloaded tab took its refund back")

	// A tab that only watched takes nothing when it is reloaded: it watches again.
	second.Reload()
	second.WaitReady()
	second.waitPhase("watching")
	assert.False(t, second.Visible("cancel-button"), "the reloaded watching tab took the refund")
	assert.Equal(t, "inProgress", first.phase(), "the tab that runs it still does")
	assert.True(t, first.Enabled("cancel-button"))

	// Only a closed tab hands the refund over, and the tab that takes it says why, truthfully.
	first.Navigate("about:blank")
	second.waitStatus("inProgress")
	second.WaitEnabled("cancel-button")
	assert.Contains(t, second.Text("resume-text"), "was closed")
	assert.NotContains(t, second.Text("resume-text"), "reloaded", "this tab was not reloaded")
	assert.NotRegexp(t, `0:0[01]$`, second.Text("elapsed"), "the elapsed time counts from the submit, not from the take-over")

	second.Click("cancel-button")
	second.waitStatus("canceled")
	assert.Equal(t, 1, instructionsOf(key))
	assert.Equal(t, 0, refundsOf(key))
	require.Empty(t, second.pending())
}

// seeable stands in for the cashier's view of a tab: the page sees the tab as hidden (document.visibilityState,
// hasFocus) while globalThis.__e2eHidden is true, and hears visibilitychange when show(p, …) changes it.
const seeable = `(() => {
	Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get() { return globalThis.__e2eHidden ? 'hidden' : 'visible'; } });
	Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get() { return !!globalThis.__e2eHidden; } });
	Document.prototype.hasFocus = function () { return !globalThis.__e2eHidden; };
})()`

// show makes p's tab visible and focused (true) or hidden in the background (false), as the page sees it.
func show(p *pos, visible bool) {
	p.exec(fmt.Sprintf(`globalThis.__e2eHidden = %t; document.dispatchEvent(new Event('visibilitychange'));
		if (%t) dispatchEvent(new Event('focus'))`, !visible, visible))
}

// Issue 19, point 3: a closed tab hands its refund to a visible tab when there is one, even when a hidden tab
// has waited for it longer; and a visible, focused tab takes over a refund whose tab went to the background.
func TestARefundGoesToTheTabTheCashierSees(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	seen := beforeLoad(func(tab *harness.Tab) { tab.OnNewDocument(seeable) })
	first := openPOS(t, onDevice(dev), seen, labelled("first-tab"))
	first.refund("52.03")
	first.waitStatus("inProgress")
	_, key := first.waitInstruction()

	hidden := openPOS(t, onDevice(dev), seen, sameBrowser(first), labelled("hidden-tab"))
	hidden.waitPhase("watching")
	show(hidden, false)
	visible := openPOS(t, onDevice(dev), seen, sameBrowser(first), labelled("visible-tab"))
	visible.waitPhase("watching")
	show(visible, true)

	first.Navigate("about:blank")
	visible.waitStatus("inProgress")
	visible.WaitEnabled("cancel-button")
	assert.Contains(t, visible.Text("resume-text"), "was closed")
	hidden.waitPhase("watching")
	assert.False(t, hidden.Visible("cancel-button"), "the hidden tab only shows it")

	// The cashier leaves that tab for the hidden one: the tab now in view takes the refund, with Cancel.
	show(visible, false)
	show(hidden, true)
	hidden.waitStatus("inProgress")
	hidden.WaitEnabled("cancel-button")
	assert.Contains(t, hidden.Text("resume-text"), "background")
	visible.waitPhase("watching")
	assert.Contains(t, visible.Text("resume-text"), "Another tab")

	hidden.Click("cancel-button")
	hidden.waitStatus("canceled")
	visible.waitStatus("canceled")
	assert.Equal(t, 1, instructionsOf(key))
	assert.Equal(t, 0, refundsOf(key))
}

// Issue 19, point 3: a tab showing its last outcome when another tab of the till starts a refund shows that
// refund running, read-only; it does not go on to read "Ready for the next refund." with the reader busy.
func TestATabShowingAnOutcomeFollowsTheNextRefundOfAnotherTab(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	first := openPOS(t, onDevice(dev), labelled("first-tab"))
	second := openPOS(t, onDevice(dev), sameBrowser(first), labelled("second-tab"))
	second.refund("53.03")
	second.waitStatus("inProgress")
	id, _ := second.waitInstruction()
	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCanceled))
	second.waitStatus("canceled")
	first.waitStatus("canceled")

	first.refund("54.03")
	first.waitStatus("inProgress")
	second.waitPhase("watching")
	second.Type("amount", "1")
	assert.Equal(t, "watching", second.status(), "typing does not hide the running refund")
	assert.NotContains(t, second.Text("status"), "Ready")
}
