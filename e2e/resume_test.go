package e2e

import (
	"strings"
	"testing"

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
