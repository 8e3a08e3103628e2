package sim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fast are timings that let a whole refund run in milliseconds.
var fast = sim.Config{Delay: 5 * time.Millisecond, Hold: 80 * time.Millisecond, Timeout: 300 * time.Millisecond}

// env is a simulator with a real payroc client pointed at it: on a real loopback server (start), or in memory
// through sim.Transport (startInBubble).
type env struct {
	sim    *sim.Simulator
	url    string       // the simulator's origin
	hc     *http.Client // reaches it
	client *payroc.Client
	close  func() // releases held long-polls, then closes the server (if any); idempotent
}

func start(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	s := sim.New(cfg)
	srv := httptest.NewServer(s)
	var once sync.Once
	e := newEnv(s, srv.URL, srv.Client(), func() { once.Do(func() { s.Close(); srv.Close() }) })
	t.Cleanup(e.close)
	return e
}

// startInBubble is start for a testing/synctest bubble: the client reaches the simulator in memory (a socket
// would keep the bubble's clock from moving), so holds, delays and injected latency run on the bubble's
// clock and a test of them is exact. Call it inside synctest.Test.
func startInBubble(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	s := sim.New(cfg)
	e := newEnv(s, "http://sim.test", &http.Client{Transport: s.Transport()}, s.Close)
	t.Cleanup(e.close)
	return e
}

func newEnv(s *sim.Simulator, url string, hc *http.Client, closeFn func()) *env {
	doer := payroc.HTTPDoer{Client: hc}
	return &env{sim: s, url: url, hc: hc, close: closeFn, client: &payroc.Client{
		BaseURL: url + "/v1",
		Doer:    doer,
		Tokens:  &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: url, APIKey: s.APIKey(), Doer: doer}).Mint},
		Retry: payroc.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
			MaxRetryAfter: time.Millisecond},
		MinPollInterval: time.Millisecond,
	}}
}

// token mints a bearer through identity.
func (e *env) token(t *testing.T) string {
	t.Helper()
	res, body := e.do(t, "POST", "/authorize", map[string]string{"x-api-key": e.sim.APIKey()}, "")
	require.Equal(t, 200, res.StatusCode, "authorize: %s", body)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(body, &tr), "authorize: %s", body)
	require.NotEmpty(t, tr.AccessToken, "authorize: %s", body)
	return tr.AccessToken
}

// do sends one raw request and reads the whole answer.
func (e *env) do(t *testing.T, method, path string, h map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	res, b, err := e.try(context.Background(), method, path, h, body)
	require.NoError(t, err, "%s %s", method, path)
	return res, b
}

func (e *env) try(ctx context.Context, method, path string, h map[string]string, body string) (*http.Response, []byte, error) {
	return e.tryWith(ctx, e.hc, method, path, h, body)
}

// tryWith sends through c. (net/http's own Transport silently resends a request carrying an
// Idempotency-Key when a reused connection breaks; a client without keep-alives shows the drop as is.)
func (e *env) tryWith(ctx context.Context, c *http.Client, method, path string, h map[string]string, body string) (*http.Response, []byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url+path, r)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// submitHeaders are the headers of a well-formed submit.
func submitHeaders(tok, key string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "Idempotency-Key": key}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// body is a submit body for device 1850010868 with the given amount.
func body(amount int) string {
	return `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"Refund for ORDER-1001",` +
		`"amount":` + itoa(amount) + `,"currency":"USD"},"operator":"cashier-1"}`
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func request(amount int64) *payroc.RefundInstructionRequest {
	return &payroc.RefundInstructionRequest{
		ProcessingTerminalID: "1234001",
		Order:                payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund for ORDER-1001", Amount: amount, Currency: "USD"},
		Operator:             "cashier-1",
	}
}

func instructionOf(t require.TestingT, b []byte) payroc.RefundInstruction {
	var ri payroc.RefundInstruction
	require.NoError(t, json.Unmarshal(b, &ri), "not an instruction: %s", b)
	require.NotEmpty(t, ri.RefundInstructionID, "not an instruction: %s", b)
	return ri
}

// refund checks req for device serial under key ("" makes one), as a caller of the client does first.
func refund(t require.TestingT, serial string, req *payroc.RefundInstructionRequest, key string) payroc.DeviceRefund {
	r, err := payroc.NewDeviceRefund(serial, *req, key)
	require.NoError(t, err)
	return r
}
