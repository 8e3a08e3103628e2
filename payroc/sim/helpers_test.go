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

	"go.uber.org/goleak"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fast are timings that let a whole refund run in milliseconds.
var fast = sim.Config{Delay: 5 * time.Millisecond, Hold: 80 * time.Millisecond, Timeout: 300 * time.Millisecond}

// env is a simulator on a real loopback server with a real payroc client pointed at it.
type env struct {
	sim    *sim.Simulator
	srv    *httptest.Server
	client *payroc.Client
	once   sync.Once
}

func start(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	s := sim.New(cfg)
	srv := httptest.NewServer(s)
	e := &env{sim: s, srv: srv}
	doer := payroc.HTTPDoer{Client: srv.Client()}
	e.client = &payroc.Client{
		BaseURL: srv.URL + "/v1",
		Doer:    doer,
		Tokens:  &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: s.APIKey(), Doer: doer}).Mint},
		Retry: payroc.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
			MaxRetryAfter: time.Millisecond},
		MinPollInterval: time.Millisecond,
	}
	t.Cleanup(e.close)
	return e
}

// close releases held long-polls, then waits for the server's handlers and closes its connections.
func (e *env) close() {
	e.once.Do(func() {
		e.sim.Close()
		e.srv.Close()
	})
}

// token mints a bearer through identity.
func (e *env) token(t *testing.T) string {
	t.Helper()
	res, body := e.do(t, "POST", "/authorize", map[string]string{"x-api-key": e.sim.APIKey()}, "")
	if res.StatusCode != 200 {
		t.Fatalf("authorize: %d %s", res.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("authorize body %s: %v", body, err)
	}
	return tr.AccessToken
}

// do sends one raw request and reads the whole answer.
func (e *env) do(t *testing.T, method, path string, h map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	res, b, err := e.try(context.Background(), method, path, h, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res, b
}

func (e *env) try(ctx context.Context, method, path string, h map[string]string, body string) (*http.Response, []byte, error) {
	return e.tryWith(ctx, e.srv.Client(), method, path, h, body)
}

// tryWith sends through c. (net/http's own Transport silently resends a request carrying an
// Idempotency-Key when a reused connection breaks; a client without keep-alives shows the drop as is.)
func (e *env) tryWith(ctx context.Context, c *http.Client, method, path string, h map[string]string, body string) (*http.Response, []byte, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, r)
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

func instructionOf(t *testing.T, b []byte) payroc.RefundInstruction {
	t.Helper()
	var ri payroc.RefundInstruction
	if err := json.Unmarshal(b, &ri); err != nil || ri.RefundInstructionID == "" {
		t.Fatalf("not an instruction: %s (%v)", b, err)
	}
	return ri
}

// eventually polls cond until it holds or 5 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
