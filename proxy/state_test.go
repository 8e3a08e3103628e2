package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/server"
)

const redisPassword = "redis-pass-5f1c9a7e3b2d4c6e8a0b"

// -state and PROXY_REDIS_URL mistakes stop the proxy with one line that names the fix and never repeats the
// URL (it may carry a password).
func TestProxyStateConfigRefusals(t *testing.T) {
	secretURL := "redis://:" + redisPassword + "@127.0.0.1:1/0"
	for _, tc := range []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"unknown backend", env(), []string{"-state", "etcd"}, "-state"},
		{"redis without a URL", env(), []string{"-state", "redis"}, "PROXY_REDIS_URL"},
		{"a URL but memory state", env("PROXY_REDIS_URL", secretURL), nil, "-state redis"},
		{"not a redis URL", env("PROXY_REDIS_URL", "http://:"+redisPassword+"@127.0.0.1:1"), []string{"-state", "redis"}, "redis://"},
		{"empty prefix", env("PROXY_REDIS_URL", secretURL), []string{"-state", "redis", "-state-prefix", ""}, "-state-prefix"},
		{"zero timeout", env("PROXY_REDIS_URL", secretURL), []string{"-state", "redis", "-state-timeout", "0s"}, "-state-timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runOut(t, tc.getenv, append([]string{"-addr", "127.0.0.1:0"}, tc.args...)...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			assert.Len(t, strings.Split(strings.TrimSpace(errs), "\n"), 1, "one line: %q", errs)
			assert.Contains(t, errs, tc.want)
			assert.NotContains(t, errs, redisPassword)
		})
	}
}

// -state redis: the proxy runs a refund with its state on a password-protected Redis; the URL and password
// are in no log line, no answer and not in /metrics; the keys are under -state-prefix.
func TestProxyRunsOnRedis(t *testing.T) {
	rs := redistest.Start(t, redistest.WithPassword(redisPassword))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	getenv := env("PROXY_TOKEN_SECRET", secret, "PROXY_REDIS_URL", rs.URL())
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-web", t.TempDir(), "-sim-delay", "20ms", "-sim-hold", "300ms",
			"-shutdown-grace", "2s", "-state", "redis", "-state-prefix", "shop-7:", "-state-timeout", "5s", "-log-level", "debug"}, getenv, &out, &errs)
	}()
	line := regexp.MustCompile(`^payroc proxy listening on (http://127\.0\.0\.1:\d+) `)
	require.Eventually(t, func() bool { return line.MatchString(out.String()) }, 10*time.Second, 10*time.Millisecond,
		"no start line; stderr %q", errs.String())
	base := line.FindStringSubmatch(out.String())[1]
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	get := func(path string) (int, string) {
		res, err := hc.Get(base + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := get("/dev/token")
	require.Equal(t, 200, code)
	var dev server.TokenResponse
	require.NoError(t, json.Unmarshal([]byte(body), &dev))
	client := &payroc.Client{BaseURL: base + "/v1", Doer: payroc.HTTPDoer{Client: hc}, Tokens: payroc.NewStaticToken(dev.Token, nil)}
	r, err := client.RunRefund(t.Context(), mustRefund(t, "1850010868", &payroc.RefundInstructionRequest{ProcessingTerminalID: "1234001",
		Order: payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund", Amount: 4999, Currency: "USD"}}, ""), payroc.RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, payroc.OutcomeApproved, r.Outcome)
	code, _ = get("/readyz")
	assert.Equal(t, 200, code)
	code, metrics := get("/metrics")
	require.Equal(t, 200, code)
	keys, err := rs.Do("DBSIZE")
	require.NoError(t, err)
	assert.NotEqual(t, ":0", keys, "the refund left its state in Redis")
	// One script, so that a key expiring between two calls (a rate bucket lives milliseconds) cannot matter.
	outside, err := rs.Do("EVAL", `local n = 0
		for _, k in ipairs(redis.call('KEYS', '*')) do if string.sub(k, 1, #ARGV[1]) ~= ARGV[1] then n = n + 1 end end
		return n`, "0", "shop-7:")
	require.NoError(t, err)
	assert.Equal(t, ":0", outside, "every key is under -state-prefix")

	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, errs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy did not stop")
	}
	for name, text := range map[string]string{"logs": errs.String(), "stdout": out.String(), "/metrics": metrics} {
		assert.NotContains(t, text, redisPassword, "the Redis password is in %s", name)
		assert.NotContains(t, text, rs.Addr(), "the Redis address is in %s", name)
	}
}

func TestProxyHelpExplainsState(t *testing.T) {
	code, _, errs := runOut(t, env(), "-h")
	require.Equal(t, 0, code)
	for _, f := range []string{"-state", "-state-prefix", "-state-timeout", "PROXY_REDIS_URL", "memory", "redis"} {
		assert.Contains(t, errs, f)
	}
}
