package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// The gap between deciding to refund and the refund's Web Lock being granted: the page has moved on at the
// press, so a second press, or Back, in that gap finds the refund under way and is not taken. The tests hold
// every lock request of the page back (gateLocks) to keep that gap open for as long as they need.

// gateLocks makes the page's Web Lock requests wait until openLocks: each is counted
// (globalThis.__e2eLocks.asked) and passed on to the browser only then.
func gateLocks(p *pos) {
	p.t.Helper()
	p.exec(`(() => {
		const request = navigator.locks.request.bind(navigator.locks);
		let open;
		const gate = new Promise((resolve) => { open = resolve; });
		globalThis.__e2eLocks = { asked: 0, open };
		navigator.locks.request = (...args) => { globalThis.__e2eLocks.asked++; return gate.then(() => request(...args)); };
	})()`)
}

// openLocks lets the lock requests held back by gateLocks through.
func openLocks(p *pos) {
	p.t.Helper()
	p.exec(`globalThis.__e2eLocks.open()`)
}

// waitLockAsked waits until the page asked for its refund's lock, and checks it asked once.
func waitLockAsked(p *pos) {
	p.t.Helper()
	p.WaitFor("the refund's lock to be asked for", `globalThis.__e2eLocks.asked > 0`)
	assert.Equal(p.t, 1, locksAsked(p), "one lock asked for")
}

// locksAsked is how many lock requests the page made since gateLocks.
func locksAsked(p *pos) int {
	p.t.Helper()
	return harness.Eval[int](p.Tab, `globalThis.__e2eLocks.asked`)
}

// Refund pressed, then (before its lock is granted) pressed again, as a press that slipped past the locked
// button: one refund is sent, and nothing fails behind the cashier's back.
func TestASecondPressBeforeTheLockSendsNothing(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	p.fill("7.00")
	gateLocks(p)
	p.Click("refund-button")
	waitLockAsked(p)
	assert.Equal(t, "sending", p.phase(), "the page shows the refund under way from the press on")
	p.exec(`document.querySelector('[data-testid="refund-form"]').requestSubmit()`)
	assert.Equal(t, "sending", p.phase())
	openLocks(p)
	p.waitStatus("approved")
	keys := submits(net)
	require.Len(t, keys, 1, "one submit")
	assert.Equal(t, 1, instructionsOf(keys[0]))
	assert.Equal(t, 1, locksAsked(p), "the second press asked for no lock")
}

// The confirmation's Refund, then at once (in the same task, before the refund's lock is granted) Refund
// again and Back: the refund is under way from the first press, so the confirmation does not come back and
// neither later press is taken. One refund is sent.
func TestConfirmedRefundIsNotTakenBackBeforeItsLock(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	p.refund("150.00")
	p.waitPhase("confirming")
	p.waitDeliberate("confirm")
	gateLocks(p)
	p.exec(`(() => {
		const press = (id) => document.querySelector('[data-testid="' + id + '"]').click();
		press('confirm-button');
		press('confirm-button');
		press('confirm-back');
	})()`)
	waitLockAsked(p)
	assert.Equal(t, "sending", p.phase(), "Back after Refund took the confirmation back while the refund went on")
	assert.False(t, p.Visible("confirm"), "the confirmation is closed")
	openLocks(p)
	p.waitStatus("approved")
	keys := submits(net)
	require.Len(t, keys, 1, "one submit")
	assert.Equal(t, 1, instructionsOf(keys[0]))
}

// Resume pressed twice before the resumed refund's lock is granted: the refund is taken up at the first
// press; the second finds it running and queues no second run.
func TestResumePressedTwiceBeforeItsLockRunsItOnce(t *testing.T) {
	t.Parallel()
	p, older, _ := offerOlder(t)
	gateLocks(p)
	p.Click("resume-button")
	waitLockAsked(p)
	assert.Equal(t, "recovering", p.phase(), "the page shows the refund taken up from the press on")
	p.exec(`document.querySelector('[data-testid="resume-button"]').click()`)
	openLocks(p)
	p.WaitFor("the resumed 17.77 refund to be approved", `document.querySelector('[data-testid="status"]').dataset.status === "approved" &&
		document.querySelector('[data-testid="progress-amount"]').textContent === "$17.77"`)
	assert.Equal(t, 1, locksAsked(p), "the second Resume queued a second run behind the lock")
	assert.Equal(t, 1, instructionsOf(older))
	assert.Equal(t, 1, refundsOf(older))
}

// Resume pressed, and the refund finished elsewhere (its record gone, as when another tab of the till
// finished it) before its lock is granted: the page, taking it up since the press, goes back to the form
// and sends nothing.
func TestResumedRefundFinishedElsewhereBeforeItsLockSendsNothing(t *testing.T) {
	t.Parallel()
	p, older, _ := offerOlder(t)
	gateLocks(p)
	p.Click("resume-button")
	waitLockAsked(p)
	require.Equal(t, "recovering", p.phase())
	p.exec(`localStorage.removeItem('payroc.pending.` + older + `')`)
	openLocks(p)
	p.waitPhase("idle")
	assert.Equal(t, "amount", p.activeTestID(), "back in the amount field")
	assert.False(t, p.Visible("resume-banner"), "nothing left to offer")
	assert.Zero(t, instructionsOf(older), "the refund finished elsewhere was sent from here")
}

// A refund whose lock request fails (the browser refuses it): nothing is sent, and the page says the refund
// did not finish rather than staying on "Sending" with the failure an unhandled rejection nobody sees.
func TestARefusedLockIsShownNotLost(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	p.fill("7.00")
	p.exec(`navigator.locks.request = () => Promise.reject(new Error('e2e: the lock is refused'))`)
	p.Click("refund-button")
	p.waitPhase("error")
	assert.Equal(t, "internal-error", p.Attr("error", "data-code"))
	assert.Empty(t, submits(net), "nothing sent without the lock")
}
