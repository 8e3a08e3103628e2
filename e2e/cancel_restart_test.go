package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cancel pressed right after the proxy restarted (memory state: it no longer knows the instruction) still
// cancels the refund waiting for the card: the module re-attaches (replays the submit with the same key, then
// cancels the instruction it is answered with) instead of leaving a live refund without a working Cancel.
func TestCancelAfterAProxyRestartCancelsTheRefund(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	proxy, err := env.stack.StartProxy("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(proxy.Stop)
	p := openPOS(t, onProxy(proxy))
	p.refund("23.03") // ending 03: no card is ever presented
	p.waitStatus("inProgress")
	_, key := p.waitInstruction()
	require.NoError(t, proxy.Restart())
	p.WaitEnabled("cancel-button")
	p.Click("cancel-button")
	st := p.waitStatus("canceled", "error")
	require.Equal(t, "canceled", st, "Cancel after the restart ended %q (%s: %q)", st, p.Attr("error", "data-code"), p.Text("error-message"))
	assert.Equal(t, 1, instructionsOf(key), "the re-attach made a second instruction")
	assert.Zero(t, refundsOf(key))
	assert.Empty(t, p.pending())
}
