package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// Issue 10, point 2: a reload in the middle of a refund. The page takes the refund up by itself (no button to
// find), shows it in the progress panel with Cancel, announces it, keeps the form locked, offers no way to
// forget it while it may still run, and the simulator makes exactly one refund, also when the proxy
// restarted (lost its memory) in between.
func TestReloadMidRefundIsTakenUpByItself(t *testing.T) {
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
				proxy, err = env.stack.StartProxy("127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(proxy.Stop)
			}
			p := openPOS(t, onProxy(proxy))
			p.refund("20.03") // ending 03: no card until the test finishes it on the device
			p.waitStatus("inProgress")
			id, key := p.waitInstruction()
			if tc.restart {
				require.NoError(t, proxy.Restart())
			}

			p.Reload()
			p.WaitReady()
			// At once, without a press: the refund is on screen, running, with Cancel.
			p.waitStatus("inProgress")
			assert.Contains(t, p.Text("status"), "taken up again", "the status (a live region) announces the recovered refund")
			assert.Equal(t, "status", p.Attr("status", "role"))
			assert.Equal(t, "$20.03", p.Text("progress-amount"))
			assert.True(t, p.Visible("resume-banner"), "the banner says what happened")
			assert.Contains(t, p.Text("resume-text"), "running again")
			assert.False(t, p.Visible("resume-button"), "nothing to press: it already runs")
			assert.False(t, p.Visible("forget-button"), "a refund that may still run cannot be forgotten")
			p.WaitEnabled("cancel-button")
			assert.True(t, p.disabled("device"), "the reader stays locked in the form")
			assert.True(t, p.disabled("refund-button"))
			p.audit("recovered")

			require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
			p.waitStatus("approved")
			r := p.receipt()
			assert.Equal(t, "approved", r.Outcome)
			assert.Regexp(t, refundIDPattern, r.RefundID)
			assert.Equal(t, 1, instructionsOf(key), "instructions for the key")
			assert.Equal(t, 1, refundsOf(key), "refunds for the key")
			assert.Empty(t, p.pending(), "nothing left unfinished")
		})
	}
}

// Issue 10, point 2: Forget is offered only when the payment server answered that the refund is unknown
// (here every call of this tab answers 404, as a proxy that lost it and a Payroc that no longer keeps its
// key would); it needs a second, deliberate press, and then the record is gone.
func TestForgetOnlyWhenTheRefundIsUnknown(t *testing.T) {
	t.Parallel()
	p := openPOS(t, beforeLoad(func(tab *harness.Tab) {
		tab.OnNewDocument(`(() => { const f = globalThis.fetch;
			globalThis.fetch = function (input, init) {
				if (String(input).includes('/v1/')) {
					return Promise.resolve(new Response(JSON.stringify({ type: '` + payroc.ProblemTypeBase + `#not-found',
						title: 'Not found', status: 404, detail: 'No such refund instruction' }),
						{ status: 404, headers: { 'content-type': 'application/problem+json' } }));
				}
				return f.apply(this, arguments); }; })();`)
	}))
	key := newUUID()
	p.exec(`localStorage.setItem('payroc.pending.` + key + `', JSON.stringify({ idempotencyKey: '` + key + `',
		refundInstructionId: 'e2e00000000000000000000000000001', status: 'inProgress',
		request: { serialNumber: '` + p.device.SerialNumber + `', processingTerminalId: '` + p.device.ProcessingTerminalID + `',
			order: { orderId: 'ORDER-1001', description: 'Refund for order ORDER-1001', amount: 1777, currency: 'USD' } },
		updatedAt: new Date().toISOString(), createdAt: new Date().toISOString() }))`)
	p.Reload()
	p.WaitReady()
	p.waitStatus("error")
	p.WaitVisible("forget-button")
	assert.Contains(t, p.Text("resume-text"), "no longer knows this refund")
	assert.NotContains(t, strings.ToLower(p.Text("error")), "start the refund again", "never advise a second refund while its record is unfinished")

	p.exec(`document.querySelector('[data-testid="forget-button"]').click(); document.querySelector('[data-testid="forget-button"]').click()`)
	assert.Len(t, p.pending(), 1, "a double tap must not forget it")
	p.WaitText("forget-button", "Yes, forget it")
	p.WaitFor("500 ms since the first press", `performance.now() - Number(document.querySelector('[data-testid="forget-button"]').dataset.armedAt) > 520`)
	p.Click("forget-button")
	require.Eventually(t, func() bool { return len(p.pending()) == 0 }, 5*time.Second, 50*time.Millisecond,
		"the deliberate second press forgets it")
	p.WaitHidden("resume-banner")
}

// Issue 10, point 2: two tabs of the page in one browser. Only the tab that runs a refund may cancel it; the
// other shows it read-only with its reader locked, follows it, and takes it over when the first tab closes.
func TestTwoTabsRunOneRefund(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	dev := newDevice(t)
	other := newDevice(t)
	lane := laneSpec{devices: []sim.Device{dev, other}}

	first := openPOS(t, onDevice(dev), withLane(lane), labelled("first-tab"))
	first.refund("21.03")
	first.waitStatus("inProgress")
	id, key := first.waitInstruction()

	second := openPOS(t, onDevice(dev), withLane(lane), sameBrowser(first), labelled("second-tab"))
	second.waitPhase("watching")
	assert.Equal(t, "watching", second.status())
	assert.Contains(t, second.Text("resume-text"), "Another tab")
	assert.False(t, second.Visible("cancel-button"), "the watching tab cannot cancel")
	assert.True(t, harness.Eval[bool](second.Tab, `[...document.querySelector('[data-testid="device"]').options].find(o => o.value === '`+dev.SerialNumber+`').disabled`),
		"the busy reader is locked in the other tab's form")
	assert.Equal(t, "$21.03", second.Text("progress-amount"))

	// The first tab closes (the cashier closed it): the second takes the refund over and can cancel it.
	first.Navigate("about:blank")
	second.waitStatus("inProgress")
	second.WaitEnabled("cancel-button")
	assert.Equal(t, "inProgress", second.phase())

	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	second.waitStatus("approved")
	assert.Equal(t, 1, instructionsOf(key))
	assert.Equal(t, 1, refundsOf(key))

	// Updates flow between tabs: a refund run in the second tab shows in a third, read-only, to the end.
	third := openPOS(t, onDevice(dev), withLane(lane), sameBrowser(second), labelled("third-tab"))
	second.refund("22.03")
	second.waitStatus("inProgress")
	id2, _ := second.waitInstruction()
	third.waitPhase("watching")
	require.NoError(t, env.stack.Sim.Finish(id2, payroc.StatusCompleted))
	third.waitStatus("approved")
	second.waitStatus("approved")
}

// Issue 10, point 3: the till loses its connection while the reader waits. Within 2 s the page says so with
// a running clock; a Cancel pressed meanwhile keeps trying instead of failing; when the connection returns the
// message clears and the cancel goes through; no error is left behind.
func TestConnectionLostIsShownAndCancelKeepsTrying(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	p.refund("23.03")
	p.waitStatus("inProgress")
	_, key := p.waitInstruction()
	assert.Equal(t, "online", p.Attr("connection", "data-state"))
	assert.True(t, harness.Eval[bool](p.Tab, `Function.prototype.toString.call(globalThis.fetch).includes('[native code]')`),
		"the page patched fetch; the indicator hears the module's onConnection")

	p.offline(true)
	lost := time.Now()
	// The long-poll in flight ends within its hold (1 s here); the failing call after it must show within 2 s.
	p.WaitForWithin("the connection indicator", `document.querySelector('[data-testid="connection"]').dataset.state === "retrying"`,
		harness.FastHold+2*time.Second)
	t.Logf("connection lost shown %v after going offline", time.Since(lost).Round(time.Millisecond))
	assert.True(t, p.Visible("connection"))
	assert.Regexp(t, `^Connection lost, retrying \(0:\d\d\)$`, p.Text("connection"))
	p.WaitText("connection", "(0:01)")

	p.Click("cancel-button")
	p.waitStatus("canceling")
	p.WaitText("status", "still trying")
	assert.False(t, p.Visible("error"), "no error while it keeps trying")
	p.audit("connection lost")

	p.offline(false)
	p.waitStatus("canceled")
	p.WaitFor("the indicator to clear", `document.querySelector('[data-testid="connection"]').dataset.state === "online"`)
	assert.False(t, p.Visible("connection"))
	assert.False(t, p.Visible("error"), "nothing of the outage is left on screen")
	assert.Equal(t, 0, refundsOf(key))
}

// Issue 10, point 3: a replayed submit that answers a different instruction id reaches the page and the
// browser's record, so Cancel goes to that instruction (not to the forgotten one, which would be a 404 and
// advice to start again).
func TestReplayWithAnotherInstructionIDReachesThePage(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	dev, dev2 := newDevice(t), newDevice(t)
	p := openPOS(t, onDevice(dev), withLane(laneSpec{devices: []sim.Device{dev, dev2}}), beforeLoad(func(tab *harness.Tab) {
		// The next status GET of __e2e.forget answers 404 (the instruction is unknown); the replayed submit
		// then answers __e2e.replaceWith instead of the original id.
		tab.OnNewDocument(`(() => { const f = globalThis.fetch; const e = globalThis.__e2e = {};
			globalThis.fetch = async function (input, init) {
				const url = String(input); const method = init?.method ?? 'GET';
				if (e.forget && method === 'GET' && url.includes('/refund-instructions/' + e.forget)) {
					e.forget = null;
					return new Response(JSON.stringify({ type: '` + payroc.ProblemTypeBase + `#not-found', title: 'Not found',
						status: 404, detail: 'No such refund instruction' }), { status: 404, headers: { 'content-type': 'application/problem+json' } });
				}
				const res = await f.apply(this, arguments);
				if (e.replaceWith && method === 'POST' && url.includes('/refund-instructions')) {
					const text = await res.text(); const old = JSON.parse(text).refundInstructionId;
					const body = text.replaceAll(old, e.replaceWith); e.replaceWith = null;
					return new Response(body, { status: res.status, headers: res.headers });
				}
				return res; }; })();`)
	}))
	p.refund("24.03")
	p.waitStatus("inProgress")
	first, key := p.waitInstruction()
	t.Cleanup(func() { _ = env.stack.Sim.Finish(first, payroc.StatusCanceled) })

	// Another live instruction of the same lane, on its second reader: what the replay will answer.
	client := &payroc.Client{BaseURL: p.proxy.URL + "/v1", Tokens: payroc.NewStaticToken(p.token.Token, nil)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	other, err := client.Submit(ctx, mustRefund(t, dev2.SerialNumber, &payroc.RefundInstructionRequest{ProcessingTerminalID: dev2.ProcessingTerminalID,
		Order: payroc.RefundOrder{OrderID: "ORDER-1002", Description: "Refund for order ORDER-1002", Amount: 2403, Currency: "USD"}}, ""))
	require.NoError(t, err)
	second := other.RefundInstructionID

	p.exec(`globalThis.__e2e.replaceWith = '` + second + `'; globalThis.__e2e.forget = '` + first + `'`)
	require.Eventually(t, func() bool {
		l := p.pending()
		return len(l) == 1 && l[0].RefundInstructionID == second
	}, 10*time.Second, 50*time.Millisecond, "the browser's record must take the replay's instruction id %s", second)
	assert.Equal(t, key, p.pending()[0].IdempotencyKey)

	p.WaitEnabled("cancel-button")
	p.Click("cancel-button")
	p.waitStatus("canceled")
	assert.NotContains(t, strings.ToLower(p.Text("status")+p.Text("error")), "start the refund again")
	inst, err := client.Instruction(ctx, second)
	require.NoError(t, err)
	assert.Equal(t, payroc.StatusCanceled, inst.Status, "the cancel went to the instruction the replay named")
}

// Issue 10, point 4: when Cancel loses the race (the device completed as the cancel arrived) the final state
// says so and keeps saying it, on the status and on the receipt; the cashier never sees a plain "Approved".
func TestCancelTooLateIsKeptOnStatusAndReceipt(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	p.exec(`(() => { const seen = globalThis.__e2eStatuses = [];
		new MutationObserver(() => seen.push(document.querySelector('[data-testid="status"]').textContent))
			.observe(document.querySelector('[data-testid="status"]'), { childList: true, characterData: true, subtree: true }); })()`)
	p.refund("12.05")
	p.waitStatus("inProgress")
	_, key := p.waitInstruction()
	p.WaitEnabled("cancel-button")
	p.Click("cancel-button")
	p.waitStatus("approved")
	assert.Equal(t, "Cancel came too late: $12.05 was refunded to the card ending 7062.", p.Text("status"))
	assert.Equal(t, "too-late", p.Attr("status", "data-cancel"))
	r := p.receipt()
	assert.Equal(t, "approved", r.Outcome)
	assert.Equal(t, "too-late", p.Attr("receipt", "data-cancel"))
	assert.Contains(t, p.Text("receipt-too-late"), "Cancel came too late")
	for _, s := range harness.Eval[[]string](p.Tab, `globalThis.__e2eStatuses`) {
		assert.False(t, strings.HasPrefix(s, "Approved"), "the status read %q on the way: a plain approval hides the lost cancel", s)
	}
	assert.Equal(t, 1, refundsOf(key))
}
