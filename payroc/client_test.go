//go:build !js

package payroc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// fastRetry keeps retries quick in tests.
var fastRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

func newTestClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL + "/v1", Retry: fastRetry, MinPollInterval: time.Millisecond}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestClientSubmitRetriesWithTheSameKey(t *testing.T) {
	var mu sync.Mutex
	var keys, bodies []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		bodies = append(bodies, string(b))
		n := len(keys)
		mu.Unlock()
		if r.URL.Path != "/v1/devices/1850010868/refund-instructions" || r.Method != "POST" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		switch n {
		case 1:
			w.WriteHeader(http.StatusBadGateway) // no problem document
		case 2:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 503, map[string]any{"type": ProblemTypeBase + "#api-error", "title": "x", "status": 503})
		default:
			writeJSON(w, 202, RefundInstruction{RefundInstructionID: "a37439165d134678a9100ebba3b29597", Status: StatusInProgress})
		}
	}))
	inst, err := c.Submit(context.Background(), "1850010868", validRequest(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("%d attempts, want 3", len(keys))
	}
	for i := range keys {
		if keys[i] != inst.IdempotencyKey || bodies[i] != bodies[0] {
			t.Errorf("attempt %d sent key %q body %q; want key %q and the first body", i, keys[i], bodies[i], inst.IdempotencyKey)
		}
	}
	if !IsUUIDv4(inst.IdempotencyKey) || inst.RefundInstructionID == "" {
		t.Errorf("instruction = %+v", inst)
	}
}

func TestClientSubmitSendsNothingInvalid(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	req := validRequest()
	req.Order.Amount = 0
	_, err := c.Submit(context.Background(), "18500/10868", req, "not-a-uuid")
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidRequest || e.Status != 0 || len(e.Errors) != 3 {
		t.Fatalf("err = %v; want invalid-request naming serialNumber, Idempotency-Key and order.amount", err)
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests reached the server", calls.Load())
	}
}

func TestClientGivesUpOnFinalErrors(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 409, map[string]any{"type": ProblemTypeBase + "#idempotency-key-in-use", "title": "Idempotency-Key in use", "status": 409})
	}))
	_, err := c.Submit(context.Background(), "1850010868", validRequest(), NewIdempotencyKey())
	if !errors.Is(err, &Error{Code: CodeIdempotencyKeyInUse}) || calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls; want idempotency-key-in-use after 1", err, calls.Load())
	}
}

func TestClientNetworkErrorAfterRetries(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	_, err := c.Refund(context.Background(), "CD3HN88U9F")
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeNetworkError || !e.Retryable() || e.Status != 0 {
		t.Fatalf("err = %v, want a retryable network-error", err)
	}
}

// instructionServer answers GETs of one instruction from a script of statuses, one per request; a "drop"
// entry closes the connection without an answer.
func instructionServer(t *testing.T, script []string) (*Client, *atomic.Int32) {
	var n atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(script) {
			i = len(script) - 1
		}
		switch s := script[i]; s {
		case "drop":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case "404":
			writeJSON(w, 404, map[string]any{"type": ProblemTypeBase + "#not-found", "title": "Not found", "status": 404})
		default:
			inst := RefundInstruction{RefundInstructionID: "abc", Status: Status(s)}
			if s == "completed" {
				inst.Link = &Link{Rel: "refund", Method: "GET", Href: "https://api.payroc.com/v1/refunds/CD3HN88U9F"}
			}
			writeJSON(w, 200, inst)
		}
	}))
	return c, &n
}

func TestClientWatchReportsEachStatusOnceInOrder(t *testing.T) {
	c, calls := instructionServer(t, []string{"inProgress", "inProgress", "drop", "inProgress", "completed"})
	var seen []Status
	inst, err := c.Watch(context.Background(), "abc", func(i *RefundInstruction) { seen = append(seen, i.Status) })
	if err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 5 {
		t.Errorf("%d GETs, want 5 (one per answer, one retry after the drop)", got)
	}
	if len(seen) != 2 || seen[0] != StatusInProgress || seen[1] != StatusCompleted {
		t.Errorf("onStatus saw %v, want [inProgress completed]", seen)
	}
	if inst.RefundID != "CD3HN88U9F" {
		t.Errorf("RefundID = %q", inst.RefundID)
	}
}

func TestClientWatchEndsOnNotFound(t *testing.T) {
	c, _ := instructionServer(t, []string{"inProgress", "404"})
	_, err := c.Watch(context.Background(), "abc", nil)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want not-found", err)
	}
}

func TestClientWatchStopsWhenContextEnds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	held := make(chan struct{})
	released := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-r.Context().Done() // the long-poll hold, ended by the client leaving
		close(released)
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL + "/v1", Retry: fastRetry}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := c.Watch(ctx, "abc", nil); errc <- err }()
	<-held
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the client leave")
	}
	srv.CloseClientConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

func TestClientCancel(t *testing.T) {
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   Status
		refund string
	}{
		{"cancel won", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, StatusCanceled, ""},
		{"device finished first", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 409, map[string]any{"type": ProblemTypeBase + "#cannot-be-canceled", "title": "Cannot be canceled", "status": 409,
				"link": Link{Rel: "refund", Method: "GET", Href: "http://127.0.0.1/v1/refunds/M2MJOG6O2Y"}})
		}, StatusCompleted, "M2MJOG6O2Y"},
		{"already failed", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "GET" {
				writeJSON(w, 200, RefundInstruction{RefundInstructionID: "abc", Status: StatusFailure, ErrorMessage: "Device error"})
				return
			}
			writeJSON(w, 409, map[string]any{"type": ProblemTypeBase + "#cannot-be-canceled", "title": "Cannot be canceled", "status": 409})
		}, StatusFailure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, http.HandlerFunc(tt.answer))
			inst, err := c.Cancel(context.Background(), "abc")
			if err != nil {
				t.Fatal(err)
			}
			if inst.Status != tt.want || inst.RefundID != tt.refund {
				t.Errorf("Cancel = %+v, want status %s refund %q", inst, tt.want, tt.refund)
			}
		})
	}
}

func TestClientCancelNotFoundIsAnError(t *testing.T) {
	c, _ := instructionServer(t, []string{"404"})
	if _, err := c.Cancel(context.Background(), "abc"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want not-found", err)
	}
}

func TestClientRenewsAnExpiredTokenOnce(t *testing.T) {
	var renewals atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer lane-2" {
			writeJSON(w, 401, map[string]any{"type": "urn:proxy#lane-token-expired", "title": "Lane token expired", "status": 401})
			return
		}
		writeJSON(w, 200, Refund{RefundID: "CD3HN88U9F", TransactionResult: TransactionResult{Status: "ready", ResponseCode: "A"}})
	}))
	c.Tokens = NewStaticToken("lane-1", func(context.Context) (string, error) {
		renewals.Add(1)
		return "lane-2", nil
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Refund(context.Background(), "CD3HN88U9F"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if renewals.Load() != 1 {
		t.Errorf("%d renewals, want 1", renewals.Load())
	}
}

func TestClientDoesNotRenewAnInvalidToken(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, map[string]any{"type": "urn:proxy#lane-token-invalid", "title": "Lane token invalid", "status": 401})
	}))
	c.Tokens = NewStaticToken("forged", func(context.Context) (string, error) {
		t.Error("renew called for an invalid token")
		return "", nil
	})
	if _, err := c.Refund(context.Background(), "CD3HN88U9F"); !errors.Is(err, &Error{Code: CodeLaneTokenInvalid}) {
		t.Fatalf("err = %v", err)
	}
}

func TestClientRunRefundOutcomes(t *testing.T) {
	tests := []struct {
		final, code string
		want        Outcome
	}{
		{"completed", "A", OutcomeApproved},
		{"completed", "D", OutcomeDeclined},
		{"failure", "", OutcomeFailed},
		{"canceled", "", OutcomeCanceled},
	}
	for _, tt := range tests {
		t.Run(string(tt.want), func(t *testing.T) {
			var polls atomic.Int32
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == "POST":
					writeJSON(w, 202, RefundInstruction{RefundInstructionID: "abc", Status: StatusInProgress})
				case strings.HasPrefix(r.URL.Path, "/v1/refunds/"):
					writeJSON(w, 200, Refund{RefundID: "CD3HN88U9F", TransactionResult: TransactionResult{Status: "ready", ResponseCode: tt.code}})
				case polls.Add(1) == 1:
					writeJSON(w, 200, RefundInstruction{RefundInstructionID: "abc", Status: StatusInProgress})
				default:
					inst := RefundInstruction{RefundInstructionID: "abc", Status: Status(tt.final)}
					if tt.final == "completed" {
						inst.Link = &Link{Rel: "refund", Method: "GET", Href: "http://x/v1/refunds/CD3HN88U9F"}
					}
					writeJSON(w, 200, inst)
				}
			}))
			var seen []Status
			res, err := c.RunRefund(context.Background(), "1850010868", validRequest(), RunOptions{
				OnStatus: func(i *RefundInstruction) { seen = append(seen, i.Status) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.want || (res.Refund != nil) != (tt.final == "completed") {
				t.Errorf("result = %+v", res)
			}
			if len(seen) != 2 || seen[0] != StatusInProgress || string(seen[1]) != tt.final {
				t.Errorf("onStatus saw %v", seen)
			}
			if !IsUUIDv4(res.Instruction.IdempotencyKey) {
				t.Errorf("the result lost its key: %+v", res.Instruction)
			}
		})
	}
}

func TestClientRunRefundResumesByResubmittingAnUnknownInstruction(t *testing.T) {
	key := NewIdempotencyKey()
	var posts atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST":
			posts.Add(1)
			if r.Header.Get("Idempotency-Key") != key {
				t.Errorf("resubmitted with key %q, want %q", r.Header.Get("Idempotency-Key"), key)
			}
			writeJSON(w, 202, RefundInstruction{RefundInstructionID: "new", Status: StatusInProgress})
		case r.URL.Path == "/v1/refund-instructions/old":
			writeJSON(w, 404, map[string]any{"type": ProblemTypeBase + "#not-found", "title": "Not found", "status": 404})
		default:
			writeJSON(w, 200, RefundInstruction{RefundInstructionID: "new", Status: StatusCanceled})
		}
	}))
	res, err := c.RunRefund(context.Background(), "1850010868", validRequest(), RunOptions{IdempotencyKey: key, RefundInstructionID: "old"})
	if err != nil {
		t.Fatal(err)
	}
	if posts.Load() != 1 || res.Outcome != OutcomeCanceled || res.Instruction.IdempotencyKey != key {
		t.Errorf("posts = %d, result = %+v", posts.Load(), res)
	}
}

func TestClientRunRefundResubmitsOnceWhenTheWatchedInstructionIsForgotten(t *testing.T) {
	var posts, gets atomic.Int32
	keys := make(chan string, 4)
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST":
			posts.Add(1)
			keys <- r.Header.Get("Idempotency-Key")
			writeJSON(w, 202, RefundInstruction{RefundInstructionID: "abc", Status: StatusInProgress})
		case r.URL.Path == "/v1/refunds/CD3HN88U9F":
			writeJSON(w, 200, Refund{RefundID: "CD3HN88U9F", TransactionResult: TransactionResult{Status: "ready", ResponseCode: "A"}})
		default:
			switch gets.Add(1) {
			case 1: // the proxy restarted: it no longer knows the instruction
				writeJSON(w, 404, map[string]any{"type": ProblemTypeBase + "#not-found", "title": "Not found", "status": 404})
			default:
				writeJSON(w, 200, RefundInstruction{RefundInstructionID: "abc", Status: StatusCompleted,
					Link: &Link{Rel: "refund", Method: "GET", Href: "http://x/v1/refunds/CD3HN88U9F"}})
			}
		}
	}))
	var seen []Status
	res, err := c.RunRefund(context.Background(), "1850010868", validRequest(), RunOptions{
		OnStatus: func(i *RefundInstruction) { seen = append(seen, i.Status) }})
	if err != nil {
		t.Fatal(err)
	}
	first, second := <-keys, <-keys
	if posts.Load() != 2 || first != second {
		t.Errorf("%d submits with keys %q and %q; want 2 with one key", posts.Load(), first, second)
	}
	if res.Outcome != OutcomeApproved || len(seen) != 2 || seen[0] != StatusInProgress || seen[1] != StatusCompleted {
		t.Errorf("outcome %s, onStatus saw %v; want approved after [inProgress completed]", res.Outcome, seen)
	}
}

func TestClientRunRefundGivesUpAfterASecondNotFound(t *testing.T) {
	var posts atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			posts.Add(1)
			writeJSON(w, 202, RefundInstruction{RefundInstructionID: "abc", Status: StatusInProgress})
			return
		}
		writeJSON(w, 404, map[string]any{"type": ProblemTypeBase + "#not-found", "title": "Not found", "status": 404})
	}))
	_, err := c.RunRefund(context.Background(), "1850010868", validRequest(), RunOptions{})
	if !errors.Is(err, ErrNotFound) || posts.Load() != 2 {
		t.Fatalf("err = %v after %d submits; want not-found after 2", err, posts.Load())
	}
}
