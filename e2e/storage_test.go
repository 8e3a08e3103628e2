package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/posrefund/cloud/e2e/harness"
)

// A browser where the page may not keep data (site data blocked, storage full from the start): the module
// keeps unfinished refunds in memory only, and the page tells the cashier not to reload during a refund.
// Refunds still work.
func TestStorageUnavailableIsToldAndRefundsStillWork(t *testing.T) {
	t.Parallel()
	p := openPOS(t, beforeLoad(func(tab *harness.Tab) {
		tab.OnNewDocument(`Storage.prototype.setItem = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };`)
	}))
	p.WaitVisible("storage-warning")
	assert.Contains(t, p.Text("storage-warning"), "do not reload", "the warning says not to reload during a refund")
	p.refund("11.00")
	p.waitStatus("approved")
}

// Storage that fills up after the page loaded: the module refuses to send a refund it cannot record first,
// and the page says why in plain words, with nothing refunded and nothing left to resume.
func TestStorageFullAtSubmitSendsNothingAndSaysWhy(t *testing.T) {
	t.Parallel()
	p := openPOS(t, beforeLoad(func(tab *harness.Tab) {
		// The module's start-up probe still passes; its refund records do not fit.
		tab.OnNewDocument(`(() => { const set = Storage.prototype.setItem;
			Storage.prototype.setItem = function (k, v) {
				if (String(k).startsWith('payroc.pending.') && k !== 'payroc.pending.probe') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
				return set.call(this, k, v); }; })();`)
	}))
	net := p.RecordNetwork()
	assert.False(t, p.Visible("storage-warning"), "storage warning shown although the page could store data at start")
	p.refund("12.00")
	p.waitStatus("error")
	assert.Equal(t, "storage-unavailable", p.Attr("error", "data-code"))
	msg := p.Text("error-message")
	assert.Contains(t, msg, "storage is full", "the message says why")
	assert.Contains(t, msg, "not sent", "the message says nothing was sent")
	assert.NotEmpty(t, p.Text("error-action"), "a next step")
	for _, x := range net.Find("") {
		assert.NotContains(t, x.URL, "/v1/", "the page sent %s %s for a refund it could not record", x.Method, x.URL)
	}
	assert.False(t, p.Visible("resume-banner"), "a refund that was never sent is offered for resuming")
	assert.Empty(t, p.pending())
}
