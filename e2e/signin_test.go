package e2e

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// Issue 19, point 3: the sign-in dead end. The tab's saved lane token no longer verifies (the server's key
// changed, as after a restart in simulator mode): a 401 fetches a fresh token once from the page's token
// source (payrocGetLaneToken here) and the refund goes on; no "sign-in is not valid", no second reload.
func TestAStaleSavedTokenIsRenewedOnceFromTheTokenSource(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	var p *pos
	var renewals atomic.Int32 // chromedp calls the exposed function on its own goroutine
	p = openPOS(t, onDevice(dev), beforeLoad(func(tab *harness.Tab) {
		tab.Do("exposing payrocGetLaneToken", chromedp.ExposeFunc("payrocGetLaneToken", func(ctx context.Context, _ []any) (string, error) {
			renewals.Add(1)
			tok, err := env.stack.Proxy.LaneToken(ctx, p.spec.request(t))
			return tok.Token, err
		}))
	}))
	p.exec(`(() => { const t = sessionStorage.getItem('pos.laneToken');
		sessionStorage.setItem('pos.laneToken', t.slice(0, -4) + (t.endsWith('AAAA') ? 'BBBB' : 'AAAA')); })()`)
	p.Reload()
	p.WaitReady()

	p.refund("55.00")
	st := p.waitStatus("approved", "error")
	require.Equal(t, "approved", st, "the refund with a stale saved token ended %q (%s: %q)", st, p.Attr("error", "data-code"), p.Text("error-message"))
	assert.Positive(t, renewals.Load(), "the token source was asked")
	assert.LessOrEqual(t, renewals.Load(), int32(2), "once for /lane and once for the module at most")
}

// A revoked lane token is never renewed: the back office ended this till's sign-in on purpose, and a token
// fetched from the token source behind its back would undo that. The tab reloaded with its revoked saved token
// says the sign-in was withdrawn, and asks the token source nothing.
func TestARevokedSavedTokenIsNotRenewed(t *testing.T) {
	t.Parallel()
	var p *pos
	var renewals atomic.Int32 // chromedp calls the exposed function on its own goroutine
	p = openPOS(t, beforeLoad(func(tab *harness.Tab) {
		tab.Do("exposing payrocGetLaneToken", chromedp.ExposeFunc("payrocGetLaneToken", func(ctx context.Context, _ []any) (string, error) {
			renewals.Add(1)
			tok, err := env.stack.Proxy.LaneToken(ctx, p.spec.request(t))
			return tok.Token, err
		}))
	}))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, env.stack.Proxy.URL+"/admin/lane-tokens/"+p.token.TokenID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+env.stack.AdminKey)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusNoContent, res.StatusCode)

	p.Reload()
	p.WaitReady()
	assert.Equal(t, "unavailable", p.phase(), "the page with a revoked token")
	assert.Equal(t, "lane-token-revoked", p.Attr("error", "data-code"))
	assert.Zero(t, renewals.Load(), "a revoked token was renewed behind the back office's back")
}
