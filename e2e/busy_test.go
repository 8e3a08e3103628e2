package e2e

import (
	"strings"
	"testing"

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

	var keys []string
	for _, x := range net.Find("") {
		if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
			keys = append(keys, header(x.RequestHeaders, "Idempotency-Key"))
		}
	}
	if len(keys) != 1 {
		t.Fatalf("a double click sent %d submits (keys %v), want 1", len(keys), keys)
	}
	if n := refundsOf(keys[0]); n != 1 {
		t.Errorf("simulator refunds for the key = %d, want 1", n)
	}
	if p.Visible("error") {
		t.Errorf("an error is shown after a double click: %q", p.Text("error-message"))
	}
}

// Scenario 6b: a second tab on a device that is running a refund gets a clear device-busy message, nothing
// reaches the device, and the first refund is the only one. Once the device is free the second tab's refund
// goes through. The second tab is either another till (its own browser profile and lane) or a second tab of
// the same till (same profile: it also sees the first tab's refund among the unfinished ones).
func TestSecondTabOnABusyDeviceIsToldItIsBusy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		sameBrowser bool
	}{
		{"AnotherTill", false},
		{"SameBrowser", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			setupOrFail(t)
			dev := newDevice(t)
			first := openPOS(t, onDevice(dev), labelled("first-tab"))
			first.refund("41.03") // ending 03: the device waits for a card until the test finishes it
			first.waitStatus("inProgress")
			id, firstKey := first.waitInstruction()

			opts := []posOption{onDevice(dev), labelled("second-tab")}
			if tc.sameBrowser {
				opts = append(opts, sameBrowser(first))
			} else {
				opts = append(opts, withLane(laneSpec{lane: "e2e-busy-till-2"}))
			}
			second := openPOS(t, opts...)
			net := second.RecordNetwork()
			if tc.sameBrowser {
				// Same browser profile: the first tab's refund is unfinished as far as this browser knows.
				second.WaitVisible("resume-banner")
			}
			second.refund("42.00")
			second.waitStatus("error")
			if code := second.Attr("error", "data-code"); code != "device-busy" {
				t.Errorf("second tab error code = %q, want device-busy", code)
			}
			if msg := second.Text("error-message"); !strings.Contains(strings.ToLower(msg), "busy") {
				t.Errorf("second tab message = %q, want it to say the reader is busy", msg)
			}
			if act := second.Text("error-action"); act == "" {
				t.Error("second tab shows no next step")
			}
			var secondKey string
			for _, x := range net.Find("") {
				if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
					secondKey = header(x.RequestHeaders, "Idempotency-Key")
					if x.Status != 409 {
						t.Errorf("the busy submit answered %d, want 409", x.Status)
					}
				}
			}
			if secondKey == "" {
				t.Fatal("the second tab sent no submit")
			}
			if n := instructionsOf(secondKey); n != 0 {
				t.Errorf("the busy submit reached the simulator: %d instructions for its key", n)
			}
			// The proxy refused it for certain: nothing of it is left to resume.
			for _, r := range second.pending() {
				if r.IdempotencyKey == secondKey {
					t.Errorf("pending() keeps the refund the proxy refused as device-busy: %+v", r)
				}
			}

			if err := env.stack.Sim.Finish(id, payroc.StatusCompleted); err != nil {
				t.Fatal(err)
			}
			first.waitStatus("approved")
			if n := refundsOf(firstKey); n != 1 {
				t.Errorf("simulator refunds for the first key = %d, want 1", n)
			}

			// The device is free again: the second tab's new attempt goes through.
			second.Click("refund-button")
			second.waitStatus("approved")
		})
	}
}
