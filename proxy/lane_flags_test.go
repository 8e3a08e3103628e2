package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/proxy/server"
)

// startProxy runs the proxy in simulator mode with args and returns its origin; it stops when the test ends.
func startProxy(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-web", t.TempDir(), "-shutdown-grace", "1s"}, args...), getenv, &out, &errs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the proxy did not stop")
		}
	})
	line := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	require.Eventually(t, func() bool {
		if m := line.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no start line; stderr %q", errs.String())
	return base
}

func laneOf(t *testing.T, base, token string) server.LaneInfo {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/lane", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var info server.LaneInfo
	require.NoError(t, json.NewDecoder(res.Body).Decode(&info))
	return info
}

func devToken(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/dev/token")
	require.NoError(t, err)
	defer res.Body.Close()
	var tok server.TokenResponse
	require.NoError(t, json.NewDecoder(res.Body).Decode(&tok))
	return tok.Token
}

// -confirm-above, -duplicate-window and -merchant-name/-merchant-address reach the page through GET /lane; a
// `proxy token -confirm-above N` token's own threshold wins over the flag.
func TestProxyLaneServesConfirmAboveAndMerchant(t *testing.T) {
	getenv := env("PROXY_TOKEN_SECRET", secret)

	t.Run("Defaults", func(t *testing.T) {
		base := startProxy(t, getenv)
		info := laneOf(t, base, devToken(t, base))
		assert.EqualValues(t, 10000, info.ConfirmAbove, "default -confirm-above")
		assert.EqualValues(t, 600, info.DuplicateWindow, "default -duplicate-window, in seconds")
		assert.Equal(t, server.LaneMerchant{}, info.Merchant)
	})

	t.Run("Flags", func(t *testing.T) {
		base := startProxy(t, getenv, "-confirm-above", "0", "-merchant-name", "Corner Hardware",
			"-merchant-address", "100 Main Street, Springfield", "-duplicate-window", "90s")
		info := laneOf(t, base, devToken(t, base))
		assert.EqualValues(t, 0, info.ConfirmAbove, "-confirm-above 0 confirms every refund")
		assert.EqualValues(t, 90, info.DuplicateWindow, "-duplicate-window 90s")
		assert.Equal(t, server.LaneMerchant{Name: "Corner Hardware", Address: "100 Main Street, Springfield"}, info.Merchant)

		var tokOut syncBuffer
		code := run(context.Background(), []string{"token", "-devices", "1850010869", "-max-amount", "700", "-confirm-above", "2500"}, getenv, &tokOut, &syncBuffer{})
		require.Equal(t, 0, code)
		assert.EqualValues(t, 2500, laneOf(t, base, strings.TrimSpace(tokOut.String())).ConfirmAbove, "the token's claim wins")
	})

	t.Run("DuplicateWindowZeroNeverAsks", func(t *testing.T) {
		base := startProxy(t, getenv, "-duplicate-window", "0")
		assert.EqualValues(t, 0, laneOf(t, base, devToken(t, base)).DuplicateWindow)
	})
}

func TestProxyConfirmAboveRefusals(t *testing.T) {
	code, out, errs := runOut(t, env(), "-confirm-above", "-5")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "-confirm-above")

	code, out, errs = runOut(t, env("PROXY_TOKEN_SECRET", secret), "token", "-devices", "1850010868", "-max-amount", "100", "-confirm-above", "-1")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "confirm-above")

	code, out, errs = runOut(t, env(), "-duplicate-window", "-1s")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errs, "-duplicate-window")

	_, _, help := runOut(t, env(), "-h")
	for _, f := range []string{"-confirm-above", "-merchant-name", "-merchant-address", "-duplicate-window"} {
		assert.Contains(t, help, f, "-h must explain %s", f)
	}
}
