package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/state"
)

// Secrets the tests hunt for in logs and answers.
const (
	testAPIKey   = "sim-key-7d1e5c0b9a3f4e21a8c6"
	testSecret   = "lane-secret-0123456789abcdef0123456789abcdef"
	testAdminKey = "admin-key-0123456789abcdef0123456789abcdef"
)

// syncBuffer collects log output from many goroutines.
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

// lines returns the JSON log records whose msg is msg.
func (s *syncBuffer) records(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// upstreamRequest is what the recorder in front of the simulator saw.
type upstreamRequest struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// recorder sits in front of the simulator and keeps every request's headers.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []upstreamRequest
	gate func(*http.Request) // see setGate
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, upstreamRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	gate := rc.gate
	rc.mu.Unlock()
	if gate != nil {
		gate(r)
	}
	rc.next.ServeHTTP(w, r)
}

// setGate runs gate before the simulator sees each later request: a test blocks a request there to keep it
// in flight for exactly as long as its own steps take, instead of racing a latency timer.
func (rc *recorder) setGate(gate func(*http.Request)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.gate = gate
}

func (rc *recorder) requests() []upstreamRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]upstreamRequest(nil), rc.reqs...)
}

// harness is the real simulator on a loopback server, and the proxy in front of it on another.
type harness struct {
	t      testing.TB
	sim    *sim.Simulator
	simSrv *httptest.Server
	rec    *recorder
	proxy  *server.Server
	url    string // the proxy's origin
	stop   func() error
	cfg    server.Config
	logs   *syncBuffer
	keys   *lane.Keyring
	client *http.Client
}

type option func(*sim.Config, *server.Config)

// lateState is a Config.State that an option names before the configuration is complete: newHarness builds
// it from the final configuration (its rate, clock and devices), as proxy/main.go does.
type lateState struct {
	state.State
	build func(server.Config) state.State
}

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	// An instruction nobody finishes (amounts ending in 03 and 05) stays in progress until the test ends it:
	// its timeout is longer than any run, so no test races it on a busy machine.
	scfg := sim.Config{APIKey: testAPIKey, Delay: 20 * time.Millisecond, Hold: 300 * time.Millisecond,
		Timeout: time.Hour, ExtraDevices: 2}
	logs := &syncBuffer{}
	cfg := server.Config{
		APIKey:         testAPIKey,
		Simulate:       true,
		TokenSecrets:   [][]byte{[]byte(testSecret)},
		WebDir:         t.TempDir(),
		Logger:         slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MintMinBackoff: 50 * time.Millisecond,
		MintMaxBackoff: 200 * time.Millisecond,
		ShutdownGrace:  100 * time.Millisecond, // each stop serves out the grace
		Version:        "test",
	}
	for _, o := range opts {
		o(&scfg, &cfg)
	}
	h := &harness{t: t, logs: logs}
	h.sim = sim.New(scfg)
	h.rec = &recorder{next: h.sim}
	h.simSrv = httptest.NewServer(h.rec)
	if cfg.APIURL == "" {
		cfg.APIURL = h.simSrv.URL + "/v1"
	}
	if cfg.IdentityURL == "" {
		cfg.IdentityURL = h.simSrv.URL
	}
	if cfg.Devices == nil {
		for _, d := range h.sim.Devices() {
			cfg.Devices = append(cfg.Devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID, Label: d.Label})
		}
	}
	if l, ok := cfg.State.(*lateState); ok {
		l.State = l.build(cfg)
	}
	h.cfg = cfg
	h.start()
	h.client = &http.Client{Transport: &http.Transport{}}
	keys, err := lane.NewKeyring([][]byte{[]byte(testSecret)})
	require.NoError(t, err)
	if cfg.Now != nil {
		keys.Now = cfg.Now
	}
	h.keys = keys
	t.Cleanup(func() {
		assert.NoError(t, h.stop())
		h.client.CloseIdleConnections()
		h.sim.Close()
		h.simSrv.Close()
		h.assertNoSecretsLogged()
	})
	return h
}

// assertNoSecretsLogged: neither the API key, any Payroc bearer, the signing key, the admin key nor any lane
// token (they all start "pl1.") is in a log.
func (h *harness) assertNoSecretsLogged() {
	logs := h.logs.String()
	secrets := []string{testAPIKey, testSecret, testAdminKey}
	for _, r := range h.rec.requests() {
		if a := r.Header.Get("Authorization"); a != "" {
			secrets = append(secrets, strings.TrimPrefix(a, "Bearer "))
		}
	}
	for _, s := range secrets {
		assert.NotContains(h.t, logs, s, "a secret (%.12s…) is in the logs", s)
	}
	assert.NotContains(h.t, logs, "pl1.", "a lane token is in the logs")
}

// token issues a lane token directly with the proxy's signing key.
func (h *harness) token(laneID string, maxAmount int64, devices ...string) string {
	h.t.Helper()
	if len(devices) == 0 {
		devices = []string{"1850010868", "1850010869"}
	}
	tok, _, err := h.keys.Issue(lane.Spec{Lane: laneID, Devices: devices, MaxAmount: maxAmount, TTL: time.Hour})
	require.NoError(h.t, err)
	return tok
}

// devToken gets a token from GET /dev/token.
func (h *harness) devToken() string {
	h.t.Helper()
	res, body := h.do("GET", "/dev/token", "", nil, nil)
	require.EqualValues(h.t, 200, res.StatusCode, "/dev/token: %d %s", res.StatusCode, body)
	var tr server.TokenResponse
	require.NoError(h.t, json.Unmarshal(body, &tr))
	return tr.Token
}

// do sends one request to the proxy.
func (h *harness) do(method, path, token string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	return h.doCtx(context.Background(), method, path, token, body, hdr)
}

func (h *harness) doCtx(ctx context.Context, method, path, token string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.url+path, rd)
	require.NoError(h.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := h.client.Do(req)
	require.NoError(h.t, err, "%s %s: %v", method, path, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	return res, b
}

func refundBody(serial string, amount int64) []byte {
	terminal := "1234001"
	if serial == "1850010869" {
		terminal = "1234002"
	}
	return []byte(fmt.Sprintf(`{"processingTerminalId":%q,"order":{"orderId":"ORDER-1001","description":"Refund for ORDER-1001","amount":%d,"currency":"USD"},"operator":"cashier-1"}`, terminal, amount))
}

// submit posts a refund instruction with key ("" makes one) and returns the answer.
func (h *harness) submit(token, serial string, amount int64, key string) (*http.Response, []byte, string) {
	h.t.Helper()
	if key == "" {
		key = payroc.NewIdempotencyKey()
	}
	res, body := h.do("POST", "/v1/devices/"+serial+"/refund-instructions", token, refundBody(serial, amount),
		map[string]string{"Idempotency-Key": key})
	return res, body, key
}

// mustSubmit submits and expects a 202, returning the instruction.
func (h *harness) mustSubmit(token, serial string, amount int64, key string) (*payroc.RefundInstruction, string) {
	h.t.Helper()
	res, body, key := h.submit(token, serial, amount, key)
	require.Equal(h.t, http.StatusAccepted, res.StatusCode, "submit: %d %s", res.StatusCode, body)
	var inst payroc.RefundInstruction
	require.NoError(h.t, json.Unmarshal(body, &inst))
	return &inst, key
}

// waitFinal long-polls until the instruction is final.
func (h *harness) waitFinal(token, id string) *payroc.RefundInstruction {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, body := h.do("GET", "/v1/refund-instructions/"+id, token, nil, nil)
		require.EqualValues(h.t, 200, res.StatusCode, "GET instruction: %d %s", res.StatusCode, body)
		var inst payroc.RefundInstruction
		require.NoError(h.t, json.Unmarshal(body, &inst))
		if inst.Status.Final() {
			return &inst
		}
	}
	h.t.Fatal("the instruction never ended")
	return nil
}

// upstreamTotal counts every request the simulator received (identity included).
func (h *harness) upstreamTotal() int {
	n := 0
	for _, c := range h.sim.Stats().Requests {
		n += c
	}
	return n
}

// problemOf decodes a problem answer and checks its status, content type and slug.
func problemOf(t testing.TB, res *http.Response, body []byte, status int, slug string) map[string]any {
	t.Helper()
	require.Equal(t, status, res.StatusCode)
	ct := res.Header.Get("Content-Type")
	require.Equal(t, "application/problem+json", ct, "Content-Type %q: %s", ct, body)
	var p map[string]any
	require.NoError(t, json.Unmarshal(body, &p))
	typ, _ := p["type"].(string)
	require.True(t, strings.HasSuffix(typ, "#"+slug))
	require.Equal(t, status, int(p["status"].(float64)), "problem members: %s", body)
	require.NotEmpty(t, p["title"], "problem members: %s", body)
	require.NotNil(t, p["detail"], "problem members: %s", body)
	return p
}

// fieldNamed reports whether the problem's errors[] names param.
func fieldNamed(p map[string]any, param string) bool {
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["parameter"] == param {
			return true
		}
	}
	return false
}

// start builds a proxy from h.cfg and serves it on a fresh loopback listener; h.url is its origin.
func (h *harness) start() {
	h.t.Helper()
	p, err := server.New(h.cfg)
	require.NoError(h.t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(h.t, err)
	h.proxy, h.url = p, "http://"+l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, l) }()
	var once sync.Once
	var serveErr error
	h.stop = func() error {
		once.Do(func() { cancel(); serveErr = <-done })
		return serveErr
	}
}

// restart stops the proxy and starts a fresh one (no soft state) with the same configuration in front of the
// same simulator, as a redeploy would.
func (h *harness) restart() {
	h.t.Helper()
	require.NoError(h.t, h.stop())
	h.client.CloseIdleConnections()
	h.start()
}

// mustRefund checks req for device serial under key ("" makes one), as a caller does before Submit.
func mustRefund(t require.TestingT, serial string, req *payroc.RefundInstructionRequest, key string) payroc.DeviceRefund {
	r, err := payroc.NewDeviceRefund(serial, *req, key)
	require.NoError(t, err)
	return r
}
