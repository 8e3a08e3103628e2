package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
)

// randomHex returns n random bytes as hex: API keys and signing keys unique to each run, so a leak check can
// look for them verbatim.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// moduleRoot is the folder holding go.mod (tests run in their package's folder).
func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// loopback serves hs on a fresh 127.0.0.1 port until the benchmark (or scope) ends, and returns the origin,
// e.g. http://127.0.0.1:41234.
func loopback(tb testing.TB, hs *http.Server) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	if hs.ErrorLog == nil {
		hs.ErrorLog = log.New(io.Discard, "", 0) // injected resets make the server complain; that is the point
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(l)
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		_ = hs.Close()
		<-done
	})
	return "http://" + l.Addr().String()
}

// simStack is the simulator on loopback, optionally behind a wrapper (the fault injector).
type simStack struct {
	Sim *sim.Simulator
	URL string
}

// startSim runs a simulator with cfg (a random API key unless set) on loopback.
func startSim(tb testing.TB, cfg sim.Config, wrap func(http.Handler) http.Handler) *simStack {
	tb.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = "bench-api-key-" + randomHex(16)
	}
	s := sim.New(cfg)
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	u := loopback(tb, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second})
	tb.Cleanup(s.Close) // runs before the listener's cleanup: held polls answer at once
	return &simStack{Sim: s, URL: u}
}

// serials returns the simulator's device serials from index from (0 is 1850010868), n of them.
func (s *simStack) serials(from, n int) []string {
	devs := s.Sim.Devices()
	out := make([]string, 0, n)
	for i := from; i < len(devs) && len(out) < n; i++ {
		out = append(out, devs[i].SerialNumber)
	}
	return out
}

// terminal returns a device's processing terminal id.
func (s *simStack) terminal(serial string) string {
	for _, d := range s.Sim.Devices() {
		if d.SerialNumber == serial {
			return d.ProcessingTerminalID
		}
	}
	return ""
}

// proxyStack is the real proxy (proxy/server) on loopback in front of a simulator.
type proxyStack struct {
	Server *server.Server
	URL    string
	Secret string
	Keys   *lane.Keyring
}

// proxyConfig is the benchmarks' proxy configuration: every simulated device, generous limits, logs as JSON to
// /dev/null (formatting and writing them is part of the proxy's cost) unless logTo is given.
func proxyConfig(up *simStack, secret string, logTo io.Writer) server.Config {
	var devices []server.Device
	for _, d := range up.Sim.Devices() {
		devices = append(devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID, Label: d.Label})
	}
	if logTo == nil {
		logTo = devNull()
	}
	return server.Config{
		WebDir:       filepath.Join(moduleRoot(), "web"),
		Devices:      devices,
		Rate:         100_000, // generous: the limiter runs, but never refuses a benchmark's burst
		APIURL:       up.URL + "/v1",
		IdentityURL:  up.URL,
		APIKey:       up.Sim.APIKey(),
		TokenSecrets: [][]byte{[]byte(secret)},
		Logger:       slog.New(slog.NewJSONHandler(logTo, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Version:      "bench",
	}
}

var devNullFile *os.File

func devNull() io.Writer {
	if devNullFile == nil {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return io.Discard
		}
		devNullFile = f
	}
	return devNullFile
}

// startProxy builds the proxy from cfg (see proxyConfig) and serves it on loopback with its own http.Server
// settings (timeouts, base context); wrap, when set, goes in front of it (the fault injector, bench routes).
func startProxy(tb testing.TB, cfg server.Config, wrap func(http.Handler) http.Handler) *proxyStack {
	tb.Helper()
	p, err := server.New(cfg)
	if err != nil {
		tb.Fatalf("proxy: %v", err)
	}
	keys, err := lane.NewKeyring(cfg.TokenSecrets)
	if err != nil {
		tb.Fatalf("lane keyring: %v", err)
	}
	if cfg.Now != nil {
		keys.Now = cfg.Now
	}
	hs := p.HTTPServer()
	if wrap != nil {
		hs.Handler = wrap(p)
	}
	u := loopback(tb, hs)
	tb.Cleanup(p.Close) // ends open long-polls before the listener's cleanup waits for them
	return &proxyStack{Server: p, URL: u, Secret: string(cfg.TokenSecrets[0]), Keys: keys}
}

// laneToken signs a lane token for laneID over devices (at most lane.MaxDevices) with a generous amount cap.
func laneToken(tb testing.TB, keys *lane.Keyring, laneID string, devices []string) string {
	tb.Helper()
	tok, err := issueLaneToken(keys, laneID, devices)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// issueLaneToken is laneToken for goroutines other than the benchmark's own (which must not call Fatal).
func issueLaneToken(keys *lane.Keyring, laneID string, devices []string) (string, error) {
	tok, _, err := keys.Issue(lane.Spec{Lane: laneID, Devices: devices, MaxAmount: 10_000_000, Currency: "USD", TTL: 48 * time.Hour})
	if err != nil {
		return "", fmt.Errorf("lane token: %w", err)
	}
	return tok, nil
}

// expiredLaneToken signs a well-formed token for laneID that expired an hour ago: the proxy answers it with
// lane-token-expired, as it would a token that ran out mid-shift.
func expiredLaneToken(keys *lane.Keyring, laneID string, devices []string) (string, error) {
	now := time.Now()
	return keys.Sign(&lane.Claims{ID: lane.NewID(), Lane: laneID, Devices: devices, MaxAmount: 10_000_000,
		Currency: "USD", IssuedAt: now.Add(-2 * time.Hour).Unix(), ExpiresAt: now.Add(-time.Hour).Unix()})
}

// scope collects cleanups of one part of a benchmark (one run of P4, say), so that part's servers and
// processes go away before the next part starts instead of at the end of the whole benchmark.
type scope struct {
	testing.TB
	fns []func()
}

func newScope(tb testing.TB) *scope { return &scope{TB: tb} }

// Cleanup registers f to run at close, in reverse order.
func (s *scope) Cleanup(f func()) { s.fns = append(s.fns, f) }

func (s *scope) close() {
	for i := len(s.fns) - 1; i >= 0; i-- {
		s.fns[i]()
	}
	s.fns = nil
}

// bareProxy is the baseline: httputil.ReverseProxy forwarding everything to upstream, nothing else.
func bareProxy(upstream string) http.Handler {
	u, err := url.Parse(upstream)
	if err != nil {
		panic(err)
	}
	return &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: httpapi.UpstreamTransport(), // the proxy's own upstream settings
		ErrorLog:  log.New(io.Discard, "", 0),
	}
}

// startBare serves the bare ReverseProxy in front of up on loopback.
func startBare(tb testing.TB, up *simStack) string {
	tb.Helper()
	return loopback(tb, &http.Server{Handler: bareProxy(up.URL), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute})
}

// clientTransport is what the benchmarks' clients (standing in for browsers) use: keep-alive connections,
// enough of them for the concurrency at hand.
func clientTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
}

// fastRetry is payroc.RetryPolicy with the delays compressed a hundredfold, so fault-injection runs stay
// short; the attempts are many, so a burst of faults is ridden out as a real client would (just faster).
var fastRetry = payroc.RetryPolicy{MaxAttempts: 12, BaseDelay: 10 * time.Millisecond, MaxDelay: 250 * time.Millisecond,
	MaxRetryAfter: 100 * time.Millisecond}

// proxyClient is the payroc client a browser's wasm runs, pointed at the proxy with a lane token.
func proxyClient(base string, hc *http.Client, tokens payroc.TokenSource) *payroc.Client {
	return &payroc.Client{BaseURL: base + "/v1", Doer: payroc.HTTPDoer{Client: hc}, Tokens: tokens, Retry: fastRetry,
		PollTimeout: 30 * time.Second, MinPollInterval: 5 * time.Millisecond}
}

// bareClient is the same client pointed at the bare ReverseProxy: it must hold a Payroc bearer itself
// (minted through the ReverseProxy, which forwards /authorize too).
func bareClient(base, apiKey string, hc *http.Client) *payroc.Client {
	doer := payroc.HTTPDoer{Client: hc}
	tokens := &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: base, APIKey: apiKey, Doer: doer}).Mint}
	return &payroc.Client{BaseURL: base + "/v1", Doer: doer, Tokens: tokens, Retry: fastRetry,
		PollTimeout: 30 * time.Second, MinPollInterval: 5 * time.Millisecond}
}

// mustRefund checks req for serial under key ("" makes one), as a caller does before Submit or RunRefund.
// The bench writes only well-formed requests: an error here is a bug in the bench itself, not a result.
func mustRefund(serial string, req *payroc.RefundInstructionRequest, key string) payroc.DeviceRefund {
	r, err := payroc.NewDeviceRefund(serial, *req, key)
	if err != nil {
		panic("bench: a request the bench wrote does not validate: " + err.Error())
	}
	return r
}

// refundRequest is a neutral refund of amount minor units on a terminal. The simulator's outcome follows
// amount % 100 (00 approved, 01 declined, 02 device failure, 03 never finishes, 04 approved after a re-poll).
func refundRequest(terminal string, amount int64, n int) *payroc.RefundInstructionRequest {
	order := fmt.Sprintf("ORDER-%d", 1000+n)
	return &payroc.RefundInstructionRequest{
		ProcessingTerminalID: terminal,
		Order:                payroc.RefundOrder{OrderID: order, Description: "Refund for " + order, Amount: amount, Currency: "USD"},
		Operator:             "cashier-1",
	}
}

// machine describes where the figures came from: CPU model and count.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s %s/%s", model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
