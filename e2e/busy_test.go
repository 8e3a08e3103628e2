package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
)

// Scenario 6a: a double click on Refund sends one refund.
func TestDoubleClickOnRefundMakesOneRefund(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	p.fill("40.00")
	p.DoubleClick("refund-button")
	p.waitStatus("approved")
	keys := submits(net)
	require.Len(t, keys, 1, "a double click sends one submit")
	assert.Equal(t, 1, refundsOf(keys[0]))
	assert.False(t, p.Visible("error"), "an error is shown after a double click: %q", p.Text("error-message"))
}

// Scenario 6b: another till on a device that is running a refund gets a clear device-busy message, nothing
// reaches the device, and the first refund is the only one. Once the device is free its refund goes through.
func TestAnotherTillOnABusyDeviceIsToldItIsBusy(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	first := openPOS(t, onDevice(dev), labelled("first-till"))
	first.refund("41.03") // ending 03: the device waits for a card until the test finishes it
	first.waitStatus("inProgress")
	id, firstKey := first.waitInstruction()

	second := openPOS(t, onDevice(dev), withLane(laneSpec{lane: "e2e-busy-till-2"}), labelled("second-till"))
	net := second.RecordNetwork()
	second.refund("42.00")
	second.waitStatus("error")
	assert.Equal(t, "device-busy", second.Attr("error", "data-code"))
	assert.Contains(t, strings.ToLower(second.Text("error-message")), "busy")
	assert.NotEmpty(t, second.Text("error-action"), "a next step")
	var secondKey string
	for _, x := range net.Find("") {
		if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
			secondKey = header(x.RequestHeaders, "Idempotency-Key")
			assert.EqualValues(t, 409, x.Status, "the busy submit's answer")
		}
	}
	require.NotEmpty(t, secondKey, "the second till sent a submit")
	assert.Zero(t, instructionsOf(secondKey), "the busy submit reached the simulator")
	for _, r := range second.pending() {
		assert.NotEqual(t, secondKey, r.IdempotencyKey, "pending() keeps the refund the proxy refused as device-busy")
	}

	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	first.waitStatus("approved")
	assert.Equal(t, 1, refundsOf(firstKey))

	// The device is free again: the second till's new attempt goes through.
	second.Click("refund-button")
	second.waitStatus("approved")
}

// Scenario 6c: a second tab of the same till (same browser) knows the reader is busy with the first tab's
// refund before sending anything: the reader is locked in its form, a Refund on it is refused beside the
// field, nothing is sent; once the first refund ends the reader is free again in both tabs.
func TestSecondTabOfTheSameTillKeepsTheBusyReaderLocked(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	first := openPOS(t, onDevice(dev), labelled("first-tab"))
	first.refund("41.03")
	first.waitStatus("inProgress")
	id, firstKey := first.waitInstruction()

	second := openPOS(t, onDevice(dev), sameBrowser(first), labelled("second-tab"))
	net := second.RecordNetwork()
	second.waitPhase("watching")
	second.refund("42.00")
	second.WaitText("device-error", "busy")
	assert.Equal(t, "watching", second.phase(), "the refused refund changes nothing")
	assert.Empty(t, submits(net), "nothing sent for a busy reader")

	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	first.waitStatus("approved")
	second.waitStatus("approved") // it followed the first tab's refund to its end
	assert.Equal(t, 1, refundsOf(firstKey))
	second.WaitFor("the reader to be free again", `![...document.querySelector('[data-testid="device"]').options].some(o => o.disabled)`)
	second.refund("42.00")
	second.WaitFor("the second tab's own refund", `document.querySelector('[data-testid="status"]').dataset.status === "approved" &&
		document.querySelector('[data-testid="progress-amount"]').textContent === "$42.00"`)
}
