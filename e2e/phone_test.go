package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
)

// phoneInView checks, at 390×844, that each hook is wholly in view without scrolling, in the state named.
func phoneInView(t *testing.T, p *pos, state string, hooks ...string) {
	t.Helper()
	for _, hook := range hooks {
		assert.True(t, p.inView(hook), "%s: %q out of view at 390x844 (its box: %s)", state, hook,
			evalString(p, `JSON.stringify(document.querySelector('[data-testid="`+hook+`"]')?.getBoundingClientRect())`))
	}
}

// Issue 19, point 4: on a phone (390×844) the status, the outcome and Cancel are in view in every state: a
// refund waiting for the card, the same after a reload (the banner shown) with the connection lost (the
// connection bar shown), after Cancel, after a device error; and the order number field is not cut off.
func TestPhoneKeepsStatusOutcomeAndCancelInView(t *testing.T) {
	t.Parallel()
	t.Run("IdleForm", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.viewport(390, 844)
		assert.True(t, fitsItsValue(p, "order-id"), "the order number field is cut off: %s",
			evalString(p, `(() => { const e = document.querySelector('[data-testid="order-id"]'); return e.scrollWidth + ' > ' + e.clientWidth; })()`))
		phoneInView(t, p, "idle", "order-id", "new-order-id")
	})
	t.Run("CancelAfterReloadOffline", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.viewport(390, 844)
		p.refund("57.03")
		p.waitStatus("inProgress")
		p.WaitEnabled("cancel-button")
		phoneInView(t, p, "waiting for the card", "status", "cancel-button")
		p.Reload()
		p.WaitReady()
		p.waitStatus("inProgress")
		p.WaitEnabled("cancel-button")
		p.WaitVisible("resume-banner")
		p.offline(true)
		p.WaitFor("the connection bar", `document.querySelector('[data-testid="connection"]').dataset.state === "retrying"`)
		phoneInView(t, p, "banner and connection bar", "status", "cancel-button", "connection")
		p.offline(false)
		p.WaitFor("the connection back", `document.querySelector('[data-testid="connection"]').dataset.state === "online"`)
		p.Click("cancel-button")
		p.waitStatus("canceled")
		phoneInView(t, p, "after Cancel", "status")
	})
	t.Run("DeviceError", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.viewport(390, 844)
		p.refund("57.02")
		p.waitStatus("failed")
		phoneInView(t, p, "after a device error", "status")
	})
	t.Run("WatchEndedCancelBesideResume", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t, beforeLoad(func(tab *harness.Tab) { tab.OnNewDocument(failFirstWatch) }))
		p.viewport(390, 844)
		p.refund("57.03")
		p.waitStatus("error")
		p.WaitEnabled("cancel-button")
		phoneInView(t, p, "watch ended, the refund live", "status", "cancel-button")
	})
	t.Run("Approved", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		p.viewport(390, 844)
		p.refund("57.03")
		p.waitStatus("inProgress")
		id, _ := p.waitInstruction()
		require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
		p.waitStatus("approved")
		phoneInView(t, p, "approved", "status")
	})
}

// fitsItsValue reports whether the input with data-testid=id shows its whole value (nothing scrolled out of
// its box) and lies inside the viewport's width.
func fitsItsValue(p *pos, id string) bool {
	p.t.Helper()
	return evalString(p, `(() => { const e = document.querySelector('[data-testid="`+id+`"]'); const r = e.getBoundingClientRect();
		return String(e.scrollWidth <= e.clientWidth && r.left >= 0 && r.right <= innerWidth); })()`) == "true"
}
