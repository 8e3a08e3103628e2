package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// Issue 16, the page: the module reports connection trouble itself through load({onConnection}), so that
// nothing patches fetch. A merchant's own page (any document of the proxy's origin) loads the module with
// onConnection and starts a refund the reader holds (amount …03); the tab goes offline while the module
// long-polls, then comes back. onConnection hears 'retrying' once, then 'online' once, each with the time of
// the change, and the page's fetch is still the browser's own.
func TestAPIOnConnectionHearsTroubleAndRecovery(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	dev := newDevice(t)
	tab := env.browser.NewTab(t)
	tab.Navigate(env.stack.Proxy.URL + "/healthz")
	type started struct {
		SameFetch   bool `json:"sameFetch"`
		NativeFetch bool `json:"nativeFetch"`
		BadOption   bool `json:"badOption"`
	}
	got := harness.Eval[started](tab, `(async () => {
		const before = globalThis.fetch;
		const m = await import('/payroc.js');
		const badOption = await m.load({ onConnection: 'not a function' }).then(() => false,
			(e) => e instanceof m.PayrocError && e.code === 'invalid-request' && /onConnection/.test(e.message));
		globalThis.__conn = [];
		const payroc = await m.load({ onConnection: (c) => globalThis.__conn.push({ ...c }) });
		globalThis.__payroc = payroc;
		globalThis.__done = payroc.refund({ serialNumber: `+harness.JSON(dev.SerialNumber)+`, processingTerminalId: `+harness.JSON(dev.ProcessingTerminalID)+`,
			order: { orderId: 'ORDER-1001', description: 'Refund for order ORDER-1001', amount: 1203, currency: 'USD' } },
			{ onStatus: (i) => { globalThis.__id = i.refundInstructionId; } }).then((r) => r.outcome, (e) => 'rejected ' + e.code);
		return { sameFetch: globalThis.fetch === before, badOption,
			nativeFetch: Function.prototype.toString.call(globalThis.fetch).includes('[native code]') };
	})()`)
	assert.True(t, got.BadOption, "load({onConnection: 'not a function'}) should reject with invalid-request naming onConnection")
	tab.WaitFor("the instruction id", `typeof globalThis.__id === 'string'`)
	assert.Empty(t, harness.Eval[[]any](tab, `globalThis.__conn`), "onConnection called while every call got through")

	offlineAt := harness.Eval[float64](tab, `Date.now()`)
	setOffline(tab, true)
	// The long-poll in flight ends within its hold; the failing call after it must be reported at once.
	tab.WaitForWithin("onConnection to hear 'retrying'", `globalThis.__conn.length === 1`, harness.FastHold+2*time.Second)
	setOffline(tab, false)
	tab.WaitFor("onConnection to hear 'online'", `globalThis.__conn.length === 2`)

	type report struct {
		State string  `json:"state"`
		Since float64 `json:"since"`
	}
	reports := harness.Eval[[]report](tab, `globalThis.__conn`)
	require.Len(t, reports, 2)
	assert.Equal(t, "retrying", reports[0].State)
	assert.Equal(t, "online", reports[1].State)
	assert.GreaterOrEqual(t, reports[0].Since, offlineAt, "since should be when the trouble began, not before")
	assert.GreaterOrEqual(t, reports[1].Since, reports[0].Since)
	outcome := harness.Eval[string](tab, `(async () => { await globalThis.__payroc.cancel(globalThis.__id); return globalThis.__done; })()`)
	assert.Equal(t, "canceled", outcome, "the refund went on through the outage")
	assert.True(t, got.SameFetch && got.NativeFetch, "load() or the module replaced globalThis.fetch")
	assert.Len(t, harness.Eval[[]any](tab, `globalThis.__conn`), 2, "a report after the connection came back")
}
