package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc/sim"
)

// Between the module and the page: codes, not message text.

// The page takes its idempotency keys from the module: UUID v4, fresh each time.
func TestAPINewIdempotencyKey(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	keys := api[[]string](p, `return [payroc.newIdempotencyKey(), payroc.newIdempotencyKey()];`)
	require.Len(t, keys, 2)
	for _, k := range keys {
		assert.Regexp(t, uuidV4, k, "a module key is a lower-case UUID v4")
	}
	assert.NotEqual(t, keys[0], keys[1], "two calls give two keys")
}

// A getToken that fails when the lane token has expired rejects the call with token-unavailable (local,
// retryable), not with the proxy's lane-token-expired; a PayrocError it throws keeps its own code.
func TestAPIGetTokenFailureIsTokenUnavailable(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	dev := newDevice(t)
	short := laneSpec{devices: []sim.Device{dev}, ttl: shortTTL, lane: "e2e-token-unavailable"}
	var renewals atomic.Int32
	fail := func(context.Context, []any) (string, error) {
		renewals.Add(1)
		return "", errors.New("the back office is unreachable")
	}
	p := openPOS(t, onDevice(dev), withLane(short), beforeLoad(func(tab *harness.Tab) {
		tab.Do("exposing payrocGetLaneToken", chromedp.ExposeFunc("payrocGetLaneToken", fail))
	}))
	exp, err := time.Parse(time.RFC3339, p.token.ExpiresAt)
	require.NoError(t, err)
	p.WaitForWithin("the lane token to expire", fmt.Sprintf("Date.now() > %d", exp.Add(time.Second).UnixMilli()), time.Until(exp)+10*time.Second)

	e := api[*jsError](p, `try { await payroc.submit(req(8100)); return null; } catch (e) { return err(e); }`)
	require.NotNil(t, e, "submit with an expired token and a failing getToken resolved")
	assert.Equal(t, "token-unavailable", e.code(), "rejection %s", e.Message)
	assert.Equal(t, 0, e.status())
	require.NotNil(t, e.Retryable)
	assert.True(t, *e.Retryable, "token-unavailable is retryable")
	assert.True(t, e.IsPayrocError)
	assert.Empty(t, api[[]any](p, `return await payroc.pending();`), "a refused submit leaves nothing to resume")
	assert.Positive(t, renewals.Load(), "getToken was never called")
}
