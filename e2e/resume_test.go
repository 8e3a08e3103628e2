package e2e

import (
	"strings"
	"testing"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// Scenario 3: a reload in the middle of a refund. The page offers to resume it, finishes it, and the
// simulator made exactly one refund for its Idempotency-Key, also when the proxy restarted (lost its memory)
// in between.
func TestReloadMidRefundResumesWithOneRefund(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		restart bool
	}{
		{"SameProxy", false},
		{"AfterProxyRestart", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			setupOrFail(t)
			proxy := env.stack.Proxy
			if tc.restart {
				// A proxy of this test's own, so its restart disturbs no other test.
				var err error
				if proxy, err = env.stack.StartProxy("127.0.0.1:0"); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(proxy.Stop)
			}
			p := openPOS(t, onProxy(proxy))
			p.refund("20.03") // ending 03: no card until the test finishes it on the device
			p.waitStatus("inProgress")
			id, key := p.waitInstruction()

			if tc.restart {
				if err := proxy.Restart(); err != nil {
					t.Fatal(err)
				}
			}
			p.Reload()
			p.WaitReady()
			p.WaitVisible("resume-banner")
			text := p.Text("resume-text")
			if !strings.Contains(text, "20.03") || !strings.Contains(text, p.device.SerialNumber) {
				t.Errorf("resume banner = %q, want the amount and the card reader", text)
			}
			if !p.Enabled("resume-button") {
				t.Fatal("Resume refund is not enabled")
			}
			p.Click("resume-button")
			p.waitStatus("inProgress")
			p.WaitHidden("resume-banner")

			// The cardholder taps now.
			if err := env.stack.Sim.Finish(id, payroc.StatusCompleted); err != nil {
				t.Fatalf("finishing the instruction on the device: %v", err)
			}
			p.waitStatus("approved")
			r := p.receipt()
			if r.Outcome != "approved" || !refundIDPattern.MatchString(r.RefundID) {
				t.Errorf("receipt = %+v, want approved with a refund id", r)
			}
			if n := instructionsOf(key); n != 1 {
				t.Errorf("simulator instructions for key %s = %d, want 1", key, n)
			}
			if n := refundsOf(key); n != 1 {
				t.Errorf("simulator refunds for key %s = %d, want 1", key, n)
			}
			if left := p.pending(); len(left) != 0 {
				t.Errorf("pending() after the resumed refund finished = %+v, want none", left)
			}
			if p.Visible("resume-banner") {
				t.Error("the resume banner is still shown")
			}
		})
	}
}

// Scenario 4: the simulator processes the submit but the connection drops before its answer reaches the
// proxy. The page retries with the same key (or offers to resume); still exactly one refund.
// Not parallel: the drop control is global to the simulator.
func TestSubmitAnswerLostStillOneRefund(t *testing.T) {
	p := openPOS(t)
	net := p.RecordNetwork()
	before := env.stack.Sim.Stats()
	if err := env.stack.Sim.DropNext(1, sim.RouteSubmit); err != nil {
		t.Fatal(err)
	}
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
	if after.PendingDrops != 0 {
		t.Fatalf("the drop was not used (%d pending): the test proved nothing", after.PendingDrops)
	}
	if got := after.Requests[sim.RouteSubmit] - before.Requests[sim.RouteSubmit]; got < 2 {
		t.Errorf("the simulator saw %d submits, want the lost one and its replay", got)
	}
	keys := map[string]bool{}
	for _, x := range net.Find("") {
		if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
			keys[header(x.RequestHeaders, "Idempotency-Key")] = true
		}
	}
	if len(keys) != 1 {
		t.Fatalf("the page sent submits with %d different keys %v, want one key reused", len(keys), keys)
	}
	for key := range keys {
		if n := instructionsOf(key); n != 1 {
			t.Errorf("simulator instructions for key %s = %d, want 1", key, n)
		}
		if n := refundsOf(key); n != 1 {
			t.Errorf("simulator refunds for key %s = %d, want 1", key, n)
		}
	}
	if got := after.RefundsCreated - before.RefundsCreated; got != 1 {
		t.Errorf("the simulator made %d refunds during the test, want 1", got)
	}
	if r := p.receipt(); r.Outcome != "approved" {
		t.Errorf("receipt outcome = %q, want approved", r.Outcome)
	}
}

// An unfinished refund offered after a reload stays offered after the cashier makes another refund first:
// the banner goes while that refund runs and comes back when it is done.
func TestResumeBannerComesBackAfterAnotherRefund(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	key := newUUID()
	// An unfinished refund as a reload leaves it (submitted, no answer seen), on another order.
	p.exec(`localStorage.setItem('payroc.pending.` + key + `', JSON.stringify({ idempotencyKey: '` + key + `',
		request: { serialNumber: '` + p.device.SerialNumber + `', processingTerminalId: '` + p.device.ProcessingTerminalID + `',
			order: { orderId: 'ORDER-1001', description: 'Refund for order ORDER-1001', amount: 1777, currency: 'USD' } },
		updatedAt: new Date().toISOString() }))`)
	p.Reload()
	p.WaitReady()
	p.WaitVisible("resume-banner")
	p.refund("5.00")
	p.waitStatus("approved")
	p.WaitVisible("resume-banner")
	if text := p.Text("resume-text"); !strings.Contains(text, "17.77") || !strings.Contains(text, "ORDER-1001") {
		t.Errorf("resume banner = %q, want the unfinished 17.77 refund of ORDER-1001", text)
	}
	if !p.Enabled("resume-button") {
		t.Error("Resume refund is not enabled after the other refund finished")
	}
}

// A proxy restarted (a deploy) while a refund waits for the card forgets the instruction. The page goes on
// with the refund it is running (the module replays its submit with the same key) instead of failing it,
// and the simulator still makes exactly one refund.
func TestProxyRestartDuringARefundDoesNotStopIt(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	proxy, err := env.stack.StartProxy("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	p := openPOS(t, onProxy(proxy))
	p.refund("22.03") // ending 03: no card until the test finishes it on the device
	p.waitStatus("inProgress")
	id, key := p.waitInstruction()
	if err := proxy.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := env.stack.Sim.Finish(id, payroc.StatusCompleted); err != nil {
		t.Fatalf("finishing the instruction on the device: %v", err)
	}
	if st := p.waitStatus("approved", "error"); st != "approved" {
		t.Fatalf("after the proxy restarted the refund ended %q (%s: %q), want approved", st, p.Attr("error", "data-code"), p.Text("error-message"))
	}
	if n := instructionsOf(key); n != 1 {
		t.Errorf("simulator instructions for key %s = %d, want 1", key, n)
	}
	if n := refundsOf(key); n != 1 {
		t.Errorf("simulator refunds for key %s = %d, want 1", key, n)
	}
	if left := p.pending(); len(left) != 0 {
		t.Errorf("pending() after the refund finished = %+v, want none", left)
	}
}

// A submit whose answer never came (every attempt reached the simulator, every answer was lost on its way
// back to the page) leaves the refund unfinished. Pressing Refund again for the same order finishes that
// refund under its own key instead of starting a second one (which could refund the card twice); a
// different amount for the order waits until the unfinished refund is settled.
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
	if st := p.waitStatus("approved", "error"); st != "error" {
		t.Fatalf("status %q: the lost answers did not leave the refund unfinished, the test proves nothing", st)
	}
	p.WaitVisible("resume-banner")
	submits := func() (keys map[string]int, n int) {
		keys = map[string]int{}
		for _, x := range net.Find("") {
			if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
				keys[header(x.RequestHeaders, "Idempotency-Key")]++
				n++
			}
		}
		return keys, n
	}
	_, sent := submits()

	// Another amount for the same order is held back.
	p.refund("31.00")
	p.WaitFor("the page to refuse a second refund of the order", `document.querySelector('[data-testid="error"]').dataset.code === "unfinished-refund"`)
	if _, n := submits(); n != sent {
		t.Errorf("a different refund of the unfinished order was sent (%d submits, want %d)", n, sent)
	}
	if !p.Visible("resume-banner") {
		t.Error("the unfinished refund is not offered")
	}

	// The same refund again: it is finished under its key.
	p.refund("30.00")
	p.waitStatus("approved")
	keys, _ := submits()
	if len(keys) != 1 {
		t.Fatalf("submits went out under %d keys %v, want one", len(keys), keys)
	}
	for key := range keys {
		if n := instructionsOf(key); n != 1 {
			t.Errorf("simulator instructions for key %s = %d, want 1", key, n)
		}
		if n := refundsOf(key); n != 1 {
			t.Errorf("simulator refunds for key %s = %d, want 1", key, n)
		}
	}
	if left := p.pending(); len(left) != 0 {
		t.Errorf("pending() after the refund finished = %+v, want none", left)
	}
}
