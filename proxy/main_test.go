package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
)

const secret = "main-test-secret-0123456789abcdef0123456789"

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func runOut(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	code = run(context.Background(), args, getenv, &out, &errb)
	return code, out.String(), errb.String()
}

func TestProxyTokenCommandRoundTrip(t *testing.T) {
	code, out, errs := runOut(t, env("PROXY_TOKEN_SECRET", "other-key-0123456789abcdef0123456789ab, "+secret),
		"token", "-devices", "1850010868, 1850010869", "-max-amount", "50000", "-lane", "front-1", "-ttl", "2h")
	require.EqualValues(t, 0, code, "exit %d, stdout %q, stderr %q", code, out, errs)
	require.Empty(t, errs, "exit %d, stdout %q, stderr %q", code, out, errs)
	require.EqualValues(t, 1, strings.Count(out, "\n"), "exit %d, stdout %q, stderr %q", code, out, errs)
	require.False(t, strings.ContainsAny(strings.TrimSpace(out), " \t"), "exit %d, stdout %q, stderr %q", code, out, errs)
	// Signed with the first key; verified by a keyring holding it.
	ring, _ := lane.NewKeyring([][]byte{[]byte("other-key-0123456789abcdef0123456789ab")})
	c, err := ring.Verify(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, "front-1", c.Lane)
	assert.Equal(t, int64(50000), c.MaxAmount)
	assert.Equal(t, "USD", c.Currency)
	assert.Equal(t, []string{"1850010868", "1850010869"}, c.Devices)
	assert.Equal(t, int64(2*time.Hour/time.Second), c.ExpiresAt-c.IssuedAt, "lifetime in seconds")
}

func TestProxyTokenCommandRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"no secret", env(), []string{"-devices", "1850010868", "-max-amount", "100"}, "PROXY_TOKEN_SECRET"},
		{"short secret", env("PROXY_TOKEN_SECRET", "tooshort"), []string{"-devices", "1850010868", "-max-amount", "100"}, "32"},
		{"no devices", env("PROXY_TOKEN_SECRET", secret), []string{"-max-amount", "100"}, "-devices"},
		{"no amount", env("PROXY_TOKEN_SECRET", secret), []string{"-devices", "1850010868"}, "-max-amount"},
		{"bad currency", env("PROXY_TOKEN_SECRET", secret), []string{"-devices", "1850010868", "-max-amount", "1", "-currency", "XXX"}, "currency"},
		{"bad lane", env("PROXY_TOKEN_SECRET", secret), []string{"-devices", "1850010868", "-max-amount", "1", "-lane", "a b"}, "lane"},
		{"ttl too long", env("PROXY_TOKEN_SECRET", secret), []string{"-devices", "1850010868", "-max-amount", "1", "-ttl", "720h"}, "ttl"},
		{"unknown flag", env("PROXY_TOKEN_SECRET", secret), []string{"-nope"}, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runOut(t, tc.getenv, append([]string{"token"}, tc.args...)...)
			require.EqualValues(t, 2, code, "exit %d, stdout %q, stderr %q", code, out, errs)
			require.Empty(t, out, "exit %d, stdout %q, stderr %q", code, out, errs)
			require.Contains(t, errs, tc.want, "exit %d, stdout %q, stderr %q", code, out, errs)
			require.NotContains(t, errs, "tooshort", "the secret is quoted in the error")
		})
	}
}

func TestProxyHelpExplainsEveryFlag(t *testing.T) {
	code, _, errs := runOut(t, env(), "-h")
	require.EqualValues(t, 0, code, "exit %d", code)
	for _, f := range []string{"-addr", "-web", "-public-url", "-devices", "-max-amount", "-allow-origin", "-rate", "-simulate",
		"-sim-addr", "-sim-delay", "-sim-hold", "-sim-timeout", "-sim-token-ttl", "-sim-devices", "-env", "-api-url",
		"-identity-url", "-tls-cert", "-tls-key", "-state", "-state-prefix", "-state-timeout", "PAYROC_API_KEY", "PROXY_TOKEN_SECRET",
		"PROXY_ADMIN_KEY", "PROXY_REDIS_URL", "PAYROC_SIM_API_KEY", "proxy token"} {
		assert.Contains(t, errs, f, "-h does not mention %s", f)
	}
}

func TestProxyBadConfigFailsWithOneLine(t *testing.T) {
	withKey := env("PAYROC_API_KEY", "k", "PROXY_TOKEN_SECRET", secret)
	for _, tc := range []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"no devices with a real key", withKey, nil, "-devices"},
		{"no secret with a real key", env("PAYROC_API_KEY", "k"), []string{"-devices", "1850010868=1234001"}, "PROXY_TOKEN_SECRET"},
		{"unknown env", withKey, []string{"-devices", "1850010868=1234001", "-env", "staging"}, "-env"},
		{"bad device list", withKey, []string{"-devices", "1850010868"}, "SERIAL=TERMINAL"},
		{"bad public url", withKey, []string{"-devices", "1850010868=1234001", "-public-url", "pos.example"}, "-public-url"},
		{"short admin key", env("PROXY_ADMIN_KEY", "short"), []string{"-addr", "127.0.0.1:0"}, "PROXY_ADMIN_KEY"},
		{"zero rate", env(), []string{"-rate", "0"}, "-rate"},
		{"negative sim delay", env(), []string{"-sim-delay", "-1s"}, "-sim-delay"},
		{"api url in simulator mode", env(), []string{"-api-url", "https://x.example/v1"}, "PAYROC_API_KEY"},
		{"stray argument", env(), []string{"serve"}, "serve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runOut(t, tc.getenv, tc.args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			require.EqualValues(t, 2, code, "exit %d, stdout %q, stderr %q", code, out, errs)
			require.Empty(t, out, "exit %d, stdout %q, stderr %q", code, out, errs)
			require.Len(t, lines, 1, "exit %d, stdout %q, stderr %q", code, out, errs)
			require.Contains(t, errs, tc.want, "exit %d, stdout %q, stderr %q", code, out, errs)
		})
	}
}

// The demo: simulator mode with the simulator also on -sim-addr, a refund through the proxy with a /dev/token
// token, a `proxy token` token accepted by /lane, the simulator's controls reachable, and a clean stop.
func TestProxyRunsTheSimulatorDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	getenv := env("PROXY_TOKEN_SECRET", secret)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-sim-addr", "127.0.0.1:0", "-web", t.TempDir(),
			"-sim-delay", "20ms", "-sim-hold", "300ms", "-sim-devices", "2", "-shutdown-grace", "2s"}, getenv, &out, &errs)
	}()
	line := regexp.MustCompile(`^payroc proxy listening on (http://127\.0\.0\.1:\d+) \(simulator at (http://127\.0\.0\.1:\d+), controls at \S+/sim/\)\n$`)
	var m []string
	require.Eventually(t, func() bool { m = line.FindStringSubmatch(out.String()); return m != nil }, 10*time.Second, 10*time.Millisecond,
		"the start line on stdout")
	base, simBase := m[1], m[2]
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	getJSON := func(url, bearer string, v any) int {
		req, _ := http.NewRequest("GET", url, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if v != nil {
			require.NoError(t, json.Unmarshal(b, v), "%s: %s", url, b)
		}
		return res.StatusCode
	}
	var dev server.TokenResponse
	require.EqualValues(t, 200, getJSON(base+"/dev/token", "", &dev), "/dev/token")
	client := &payroc.Client{BaseURL: base + "/v1", Doer: payroc.HTTPDoer{Client: hc}, Tokens: payroc.NewStaticToken(dev.Token, nil)}
	r, err := client.RunRefund(t.Context(), mustRefund(t, "1850020002", &payroc.RefundInstructionRequest{ProcessingTerminalID: "1234001",
		Order: payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund", Amount: 4999, Currency: "USD"}}, ""), payroc.RunOptions{})
	require.NoError(t, err, "refund: %+v, %v", r, err)
	require.Equal(t, payroc.OutcomeApproved, r.Outcome, "refund: %+v, %v", r, err)
	var tokOut syncBuffer
	code := run(context.Background(), []string{"token", "-devices", "1850010869", "-max-amount", "700", "-lane", "front-1"}, getenv, &tokOut, io.Discard)
	require.EqualValues(t, 0, code, "proxy token failed")
	var info server.LaneInfo
	require.Equal(t, 200, getJSON(base+"/lane", strings.TrimSpace(tokOut.String()), &info), "/lane with a `proxy token` token")
	assert.Equal(t, "front-1", info.Lane)
	assert.Equal(t, int64(700), info.MaxAmount)
	if assert.Len(t, info.Devices, 1) {
		assert.Equal(t, "1234002", info.Devices[0].ProcessingTerminalID)
	}
	var stats struct {
		IdentityCalls int `json:"identityCalls"`
	}
	require.EqualValues(t, 200, getJSON(simBase+"/sim/stats", "", &stats), "/sim/stats on -sim-addr: %+v", stats)
	require.EqualValues(t, 1, stats.IdentityCalls, "/sim/stats on -sim-addr: %+v", stats)
	cancel()
	select {
	case code := <-done:
		require.EqualValues(t, 0, code, "exit %d: %s", code, errs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not stop")
	}
	logs := errs.String()
	require.NotContains(t, logs, "sim-api-key", "a secret is in the logs")
	require.NotContains(t, logs, secret, "a secret is in the logs")
	require.NotContains(t, logs, dev.Token, "a secret is in the logs")
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.HasPrefix(l, "{") && !strings.HasPrefix(l, "warning: ") {
			t.Fatalf("a log line is neither JSON nor a start warning: %q", l)
		}
	}
}

// mustRefund checks req for device serial under key ("" makes one), as a caller does before Submit.
func mustRefund(t require.TestingT, serial string, req *payroc.RefundInstructionRequest, key string) payroc.DeviceRefund {
	r, err := payroc.NewDeviceRefund(serial, *req, key)
	require.NoError(t, err)
	return r
}
