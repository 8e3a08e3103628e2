package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

// settle waits for a Promise and returns its value or its rejection. The test goroutine may block: it is
// not inside a js.FuncOf callback, and the runtime hands control to Node's event loop meanwhile.
func settle(t *testing.T, p js.Value) (v js.Value, rejected bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := await(ctx, p)
	if err != nil {
		var r *jsRejection
		if errors.As(err, &r) {
			return r.v, true
		}
		t.Fatalf("promise did not settle: %v", err)
	}
	return v, false
}

// resolved settles p, fails unless it resolved, and decodes its JSON text into out.
func resolved(t *testing.T, p js.Value, out any) string {
	t.Helper()
	v, rej := settle(t, p)
	require.False(t, rej, "promise rejected: %s", jsonOf(v))
	require.Equal(t, js.TypeString, v.Type())
	if out != nil {
		require.NoError(t, json.Unmarshal([]byte(v.String()), out))
	}
	return v.String()
}

// rejectedErr settles p, fails unless it rejected with a PayrocError object, and returns that object.
func rejectedErr(t *testing.T, p js.Value) jsError {
	t.Helper()
	v, rej := settle(t, p)
	require.True(t, rej)
	var e jsError
	err := json.Unmarshal([]byte(jsonOf(v)), &e)
	require.NoError(t, err)
	require.Equal(t, "PayrocError", e.Name)
	return e
}

func jsonOf(v js.Value) string {
	s := js.Global().Get("JSON").Call("stringify", v)
	if s.Type() != js.TypeString {
		return js.Global().Call("String", v).String()
	}
	return s.String()
}

// jsFunc compiles a JavaScript function from source, for shims and callbacks written in JavaScript.
func jsFunc(params, body string) js.Value {
	return js.Global().Get("Function").New(params, body)
}

// statusRecorder is an onStatus callback (as the wrapper would pass it: JSON text) that keeps every call.
type statusRecorder struct {
	mu   sync.Mutex
	seen []payroc.RefundInstruction
	fn   js.Func
	// during, if set, runs inside each call: it sees the store as the callback sees it.
	during func(payroc.RefundInstruction)
}

func newStatusRecorder(t *testing.T) *statusRecorder {
	r := &statusRecorder{}
	r.fn = js.FuncOf(func(_ js.Value, args []js.Value) any {
		var inst payroc.RefundInstruction
		if err := json.Unmarshal([]byte(arg(args, 0).String()), &inst); err != nil {
			panic(err)
		}
		r.mu.Lock()
		r.seen = append(r.seen, inst)
		r.mu.Unlock()
		if r.during != nil {
			r.during(inst)
		}
		return nil
	})
	t.Cleanup(r.fn.Release)
	return r
}

func (r *statusRecorder) statuses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.seen {
		out = append(out, string(s.Status))
	}
	return out
}

// opts builds an options object.
func opts(kv ...any) js.Value {
	o := js.Global().Get("Object").New()
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// fakePayroc answers the four refund endpoints in process, the outermost edge of these tests (Node cannot
// run the Go simulator's listener inside js/wasm). Each instruction follows a script of statuses, one per
// status GET; the last repeats. Hooks let a test fail or inspect requests.
type fakePayroc struct {
	mu       sync.Mutex
	script   []payroc.Status // statuses the GETs walk through after the submit's inProgress
	code     string          // the refund's responseCode (default "A")
	insts    map[string]*fakeInst
	byKey    map[string]string // idempotency key → instruction id
	requests []payroc.Request
	// before, if set, may answer a request itself (an error, a problem) before the fake does.
	before func(req *payroc.Request) (*payroc.Response, error, bool)
	// token, if set, is the only bearer accepted; others get 401 lane-token-expired.
	token string
	n     int
}

type fakeInst struct {
	id   string
	step int
	body []byte
}

func newFakePayroc(script ...payroc.Status) *fakePayroc {
	return &fakePayroc{script: script, code: "A", insts: map[string]*fakeInst{}, byKey: map[string]string{}}
}

func (f *fakePayroc) submits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Method == "POST" {
			n++
		}
	}
	return n
}

func problem(status int, code string) *payroc.Response {
	b, _ := json.Marshal(payroc.NewError(code, "from the fake"))
	return &payroc.Response{StatusCode: status, Header: payroc.Header{"content-type": "application/problem+json"}, Body: b}
}

func jsonResponse(status int, v any) *payroc.Response {
	b, _ := json.Marshal(v)
	return &payroc.Response{StatusCode: status, Header: payroc.Header{"content-type": "application/json"}, Body: b}
}

const fakeBase = "https://pos.example/v1"

func (f *fakePayroc) Do(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.requests = append(f.requests, *req)
	before, token := f.before, f.token
	f.mu.Unlock()
	if before != nil {
		if res, err, done := before(req); done {
			return res, err
		}
	}
	if token != "" && req.Header.Get("authorization") != "Bearer "+token {
		return problem(401, payroc.CodeLaneTokenExpired), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.TrimPrefix(req.URL, fakeBase)
	switch {
	case req.Method == "POST" && strings.HasPrefix(path, "/devices/"):
		key := req.Header.Get("idempotency-key")
		id, ok := f.byKey[key]
		if !ok {
			f.n++
			id = "inst" + strings.Repeat("0", 3) + string(rune('a'+f.n))
			f.byKey[key] = id
			f.insts[id] = &fakeInst{id: id, body: req.Body}
		}
		return jsonResponse(202, f.instruction(f.insts[id], payroc.StatusInProgress)), nil
	case req.Method == "GET" && strings.HasPrefix(path, "/refund-instructions/"):
		in, ok := f.insts[strings.TrimPrefix(path, "/refund-instructions/")]
		if !ok {
			return problem(404, payroc.CodeNotFound), nil
		}
		st := payroc.StatusInProgress
		if len(f.script) > 0 {
			st = f.script[min(in.step, len(f.script)-1)]
			in.step++
		}
		return jsonResponse(200, f.instruction(in, st)), nil
	case req.Method == "DELETE" && strings.HasPrefix(path, "/refund-instructions/"):
		if _, ok := f.insts[strings.TrimPrefix(path, "/refund-instructions/")]; !ok {
			return problem(404, payroc.CodeNotFound), nil
		}
		return &payroc.Response{StatusCode: 204, Header: payroc.Header{}}, nil
	case req.Method == "GET" && strings.HasPrefix(path, "/refunds/"):
		amount := int64(-4999)
		return jsonResponse(200, payroc.Refund{
			RefundID: strings.TrimPrefix(path, "/refunds/"), ProcessingTerminalID: "1234001",
			Order: payroc.RetrievedOrder{OrderID: "ORDER-1001", DateTime: "2024-07-02T15:30:00Z", Description: "Refund for order ORDER-1001", Amount: 4999, Currency: "USD"},
			Card:  payroc.Card{Type: "Visa Credit", EntryMethod: "contactlessIcc", CardNumber: "453985******7062", ExpiryDate: "1230"},
			TransactionResult: payroc.TransactionResult{Type: "refund", Status: "ready", ApprovalCode: "000000",
				AuthorizedAmount: &amount, Currency: "USD", ResponseCode: f.code, ResponseMessage: "OK5"},
		}), nil
	}
	return problem(404, payroc.CodeNotFound), nil
}

func (f *fakePayroc) instruction(in *fakeInst, st payroc.Status) payroc.RefundInstruction {
	inst := payroc.RefundInstruction{RefundInstructionID: in.id, Status: st,
		Link: &payroc.Link{Rel: "self", Method: "GET", Href: fakeBase + "/refund-instructions/" + in.id}}
	switch st {
	case payroc.StatusCompleted:
		inst.Link = &payroc.Link{Rel: "refund", Method: "GET", Href: fakeBase + "/refunds/CD3HN88U9F"}
	case payroc.StatusFailure:
		inst.ErrorMessage = "Device error"
	}
	return inst
}

// fastRetry keeps retry backoff short so tests of network failures finish quickly.
var fastRetry = payroc.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

// newTestAPI returns the module's JavaScript object over a fake Payroc and an in-memory store.
func newTestAPI(t *testing.T, f payroc.Doer, cfg config) (js.Value, *pending.Store) {
	t.Helper()
	cfg.BaseURL = "https://pos.example"
	if cfg.Doer == nil {
		cfg.Doer = f
	}
	if cfg.Storage == nil {
		cfg.Storage = &pending.MemoryStorage{}
	}
	if cfg.Token == "" {
		cfg.Token = "lane-token-1"
	}
	if cfg.Retry == (payroc.RetryPolicy{}) {
		cfg.Retry = fastRetry
	}
	a := newAPI(cfg)
	a.client.MinPollInterval = time.Millisecond
	return a.object(), a.store
}

// validRequest is a request as the page sends it, as JSON text.
const validRequest = `{"serialNumber":"1850010868","processingTerminalId":"1234001",` +
	`"order":{"orderId":"ORDER-1001","description":"Refund for order ORDER-1001","amount":4999,"currency":"USD"},` +
	`"operator":"cashier-1"}`

// isKey checks a key is a UUID v4 in canonical (lower-case) form.
func isKey(key string) error {
	k, err := payroc.ParseIdempotencyKey(key)
	if err == nil && k != key {
		return fmt.Errorf("key %q is not in canonical form %q", key, k)
	}
	return err
}
