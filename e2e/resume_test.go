package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// Scenario 4: the simulator processes the submit but the connection drops before its answer reaches the
// proxy. The page retries with the same key (or offers to resume); still exactly one refund.
// Not parallel: the drop control is global to the simulator.
func TestSubmitAnswerLostStillOneRefund(t *testing.T) {
	p := openPOS(t)
	net := p.RecordNetwork()
	before := env.stack.Sim.Stats()
	require.NoError(t, env.stack.Sim.DropNext(1, sim.RouteSubmit))
	p.refund("30.00")
	if st := p.waitStatus("approved", "error"); st == "error" {
		// The page could not tell whether the refund reached the device: it must offer to resume, and
		// resuming must find the refund the device made, not make a second one.
		t.Logf("first attempt ended with %q (%s); resuming", p.Text("status"), p.Attr("error", "data-code"))
		p.WaitVisible("resume-banner")
		p.Click("resume-button")
		p.waitStatus("approved")
	}
	after := env.stack.Sim.Stats()
	require.Zero(t, after.PendingDrops, "the drop was not used: the test proved nothing")
	assert.GreaterOrEqual(t, after.Requests[sim.RouteSubmit]-before.Requests[sim.RouteSubmit], 2, "the lost submit and its replay")
	keys := map[string]bool{}
	for _, k := range submits(net) {
		keys[k] = true
	}
	require.Len(t, keys, 1, "one key reused for every submit")
	for key := range keys {
		assert.Equal(t, 1, instructionsOf(key))
		assert.Equal(t, 1, refundsOf(key))
	}
	assert.Equal(t, 1, after.RefundsCreated-before.RefundsCreated, "refunds made during the test")
	assert.Equal(t, "approved", p.receipt().Outcome)
}

// recordPending is the script that leaves an unfinished refund of amount (USD cents) on d in the page's
// storage, as the module records one before sending it: submitted, no answer seen, last updated at (the later
// one is taken up first on load).
func recordPending(key string, d sim.Device, order string, amount int, at string) string {
	return `localStorage.setItem('payroc.pending.` + key + `', JSON.stringify({ idempotencyKey: '` + key + `',
		request: { serialNumber: '` + d.SerialNumber + `', processingTerminalId: '` + d.ProcessingTerminalID + `',
			order: { orderId: '` + order + `', description: 'Refund for order ` + order + `', amount: ` + itoa(amount) + `, currency: 'USD' } },
		updatedAt: '` + at + `', createdAt: new Date().toISOString() }));`
}

// Two unfinished refunds of this browser (submitted, no answer seen, as a reload leaves them): on load the
// latest is taken up by itself; the other is offered in the banner once that one is done, and resuming it
// finishes it under its own key. One refund each.
func TestSecondUnfinishedRefundIsOfferedAfterTheFirst(t *testing.T) {
	t.Parallel()
	p, older, newer := offerOlder(t)
	assert.Contains(t, p.Text("resume-text"), "ORDER-1001")
	p.Click("resume-button")
	p.WaitFor("the resumed 17.77 refund to be approved", `document.querySelector('[data-testid="status"]').dataset.status === "approved" &&
		document.querySelector('[data-testid="progress-amount"]').textContent === "$17.77"`)
	assert.Contains(t, p.receipt().Amount, "17.77")
	for _, key := range []string{older, newer} {
		assert.Equal(t, 1, instructionsOf(key), "instructions for %s", key)
		assert.Equal(t, 1, refundsOf(key), "refunds for %s", key)
	}
	assert.Empty(t, p.pending())
	p.WaitHidden("resume-banner")
}

// offerOlder leaves two unfinished refunds in a fresh page's storage and reloads it: the newer (18.88) is
// taken up on load and approved; the older (17.77, ORDER-1001) is then offered in the banner. It returns the
// page and the older and newer refunds' keys.
func offerOlder(t *testing.T) (p *pos, older, newer string) {
	t.Helper()
	setupOrFail(t)
	dev, dev2 := newDevice(t), newDevice(t)
	p = openPOS(t, onDevice(dev), withLane(laneSpec{devices: []sim.Device{dev, dev2}}))
	older, newer = newUUID(), newUUID()
	p.exec(recordPending(older, dev2, "ORDER-1001", 1777, "2026-01-01T10:00:00Z") +
		recordPending(newer, dev, "ORDER-1002", 1888, "2026-01-01T10:05:00Z"))
	p.Reload()
	p.WaitReady()
	p.waitStatus("approved")
	assert.Contains(t, p.receipt().Amount, "18.88", "the latest unfinished refund is taken up first")
	p.WaitVisible("resume-banner")
	p.WaitText("resume-text", "17.77")
	return p, older, newer
}

// A proxy restarted (a deploy) while a refund waits for the card forgets the instruction. The page goes on
// with the refund it is running (the module replays its submit with the same key) instead of failing it,
// and the simulator still makes exactly one refund.
func TestProxyRestartDuringARefundDoesNotStopIt(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	proxy, err := env.stack.StartProxy("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(proxy.Stop)
	p := openPOS(t, onProxy(proxy))
	p.refund("22.03") // ending 03: no card until the test finishes it on the device
	p.waitStatus("inProgress")
	id, key := p.waitInstruction()
	require.NoError(t, proxy.Restart())
	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	st := p.waitStatus("approved", "error")
	require.Equal(t, "approved", st, "after the proxy restarted the refund ended %q (%s: %q)", st, p.Attr("error", "data-code"), p.Text("error-message"))
	assert.Equal(t, 1, instructionsOf(key))
	assert.Equal(t, 1, refundsOf(key))
	assert.Empty(t, p.pending())
}

// A submit whose answer never came (every attempt reached the simulator, every answer was lost on its way
// back to the page) leaves the refund unfinished, its reader locked. Pressing Refund again for the same order
// finishes that refund under its own key instead of starting a second one (which could refund the card
// twice); a different amount for the order waits until the unfinished refund is settled.
func TestRefundPressedAgainAfterALostAnswerFinishesTheSameRefund(t *testing.T) {
	t.Parallel()
	p := openPOS(t, beforeLoad(func(tab *harness.Tab) {
		// The page's fetch loses the answers of the first four submits (the module's tries of one call)
		// after the request went out, as a connection that drops on the way back does.
		tab.OnNewDocument(`(() => { const f = globalThis.fetch; let lose = 4;
			globalThis.fetch = function (input, init) {
				const p = f.apply(this, arguments);
				if (lose > 0 && init?.method === 'POST' && String(input).includes('/refund-instructions')) {
					lose--;
					return p.then(() => { throw new TypeError('Failed to fetch'); });
				}
				return p;
			}; })();`)
	}))
	net := p.RecordNetwork()
	p.refund("30.00")
	require.Equal(t, "error", p.waitStatus("approved", "error"), "the lost answers did not leave the refund unfinished: the test proves nothing")
	p.WaitVisible("resume-banner")
	assert.Contains(t, p.Text("error-action"), "Do not start a new one", "never advise a second refund while one may be running")
	sent := len(submits(net))

	// Another amount for the same order is held back.
	p.refund("31.00")
	p.WaitFor("the page to refuse a second refund of the order", `document.querySelector('[data-testid="error"]').dataset.code === "unfinished-refund"`)
	assert.Len(t, submits(net), sent, "a different refund of the unfinished order was sent")
	assert.True(t, p.Visible("resume-banner"), "the unfinished refund is offered")

	// The same refund again: it is finished under its key.
	p.refund("30.00")
	p.waitStatus("approved")
	keys := map[string]bool{}
	for _, k := range submits(net) {
		keys[k] = true
	}
	require.Len(t, keys, 1, "submits went out under one key")
	for key := range keys {
		assert.Equal(t, 1, instructionsOf(key))
		assert.Equal(t, 1, refundsOf(key))
	}
	assert.Empty(t, p.pending())
}
