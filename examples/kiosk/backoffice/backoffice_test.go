package backoffice_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/examples/kiosk/backoffice"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

const adminKey = "backoffice-test-admin-key-0123456789abcdef"

// proxy runs the real proxy in front of the simulator, with the admin API on.
func proxy(t *testing.T) string {
	t.Helper()
	s := sim.New(sim.Config{})
	t.Cleanup(s.Close)
	upstream := httptest.NewServer(s)
	t.Cleanup(upstream.Close)
	var devices []server.Device
	for _, d := range s.Devices() {
		devices = append(devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID, Label: d.Label})
	}
	p, err := server.New(server.Config{APIURL: upstream.URL + "/v1", IdentityURL: upstream.URL, APIKey: s.APIKey(),
		Simulate: true, Devices: devices, WebDir: t.TempDir(), AdminKey: adminKey, Logger: slog.New(slog.DiscardHandler),
		TokenSecrets: [][]byte{[]byte("backoffice test signing key, 32 bytes+")}})
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(p.Close)
	return front.URL
}

func laneStatus(t *testing.T, proxyURL, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", proxyURL+"/lane", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

func TestBackOfficeMintsAndRevokesLaneTokens(t *testing.T) {
	proxyURL := proxy(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>kiosk</title>"), 0o644))
	bo, err := backoffice.New(backoffice.Config{ProxyURL: proxyURL, AdminKey: adminKey, Devices: []string{"1850010868"},
		MaxAmount: 5000, TTL: 2 * time.Minute, Dir: dir})
	require.NoError(t, err)
	kiosk := httptest.NewServer(bo)
	t.Cleanup(kiosk.Close)

	res, err := http.Post(kiosk.URL+"/lane-token", "", nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	var tok backoffice.Token
	require.NoError(t, json.Unmarshal(body, &tok))
	assert.Equal(t, "kiosk-1", tok.Lane)
	exp, err := time.Parse(time.RFC3339, tok.ExpiresAt)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(2*time.Minute), exp, 5*time.Second, "the token lives the configured TTL")
	assert.NotContains(t, string(body), adminKey, "the admin key never reaches the page")
	assert.Equal(t, 1, bo.Minted())
	assert.Equal(t, http.StatusOK, laneStatus(t, proxyURL, tok.Token), "the proxy accepts the minted token")

	res, err = http.Get(kiosk.URL + "/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "connect-src 'self' "+proxyURL)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "'wasm-unsafe-eval'")

	for _, bad := range []string{`{}`, `{"tokenId":"../lane-tokens"}`, `not json`} {
		res, err = http.Post(kiosk.URL+"/sign-off", "application/json", bytes.NewBufferString(bad))
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, "sign-off with %s", bad)
	}
	res, err = http.Post(kiosk.URL+"/sign-off", "application/json", bytes.NewBufferString(`{"tokenId":"`+tok.TokenID+`"}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, http.StatusUnauthorized, laneStatus(t, proxyURL, tok.Token), "a signed-off token is refused")
}

func TestBackOfficeNeedsItsConfiguration(t *testing.T) {
	_, err := backoffice.New(backoffice.Config{ProxyURL: "http://127.0.0.1:8080", Devices: []string{"1850010868"}, MaxAmount: 1, Dir: "."})
	assert.ErrorContains(t, err, "AdminKey")
}
