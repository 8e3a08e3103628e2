package e2e

import (
	"strings"
	"testing"

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
	if msg := p.Text("storage-warning"); !strings.Contains(msg, "do not reload") {
		t.Errorf("storage warning = %q, want it to say not to reload during a refund", msg)
	}
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
	if p.Visible("storage-warning") {
		t.Error("storage warning shown although the page could store data at start")
	}
	p.refund("12.00")
	p.waitStatus("error")
	msg := p.Text("error-message")
	if !strings.Contains(msg, "storage is full") || !strings.Contains(msg, "not sent") {
		t.Errorf("error message = %q, want it to say the browser's storage is full and the refund was not sent", msg)
	}
	if p.Text("error-action") == "" {
		t.Error("no next step shown")
	}
	if code := p.Attr("error", "data-code"); code != "storage-unavailable" {
		t.Errorf("error data-code = %q, want storage-unavailable (the module's code, not its message)", code)
	}
	for _, x := range net.Find("") {
		if strings.Contains(x.URL, "/v1/") {
			t.Errorf("the page sent %s %s for a refund it could not record", x.Method, x.URL)
		}
	}
	if p.Visible("resume-banner") || len(p.pending()) != 0 {
		t.Errorf("a refund that was never sent is offered for resuming: %+v", p.pending())
	}
}
