package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
