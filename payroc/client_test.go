//go:build !js

package payroc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		assert.Equal(t, "/v1/devices/1850010868/refund-instructions", r.URL.Path, "request %s %s", r.Method, r.URL.Path)
		assert.Equal(t, "POST", r.Method, "request %s %s", r.Method, r.URL.Path)
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
	inst, err := c.Submit(context.Background(), deviceRefund(t, ""))
	require.NoError(t, err)
	require.Len(t, keys, 3)
	for i := range keys {
		require.Equal(t, inst.IdempotencyKey, keys[i])
		require.Equal(t, bodies[0], bodies[i])
	}
	assert.NoError(t, isKey(inst.IdempotencyKey), "instruction = %+v", inst)
	assert.NotEmpty(t, inst.RefundInstructionID, "instruction = %+v", inst)
}

func TestClientSubmitSendsNothingInvalid(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	req := validRequest()
	req.Order.Amount = 0
	r, err := NewDeviceRefund("18500/10868", *req, "not-a-uuid")
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, CodeInvalidRequest, e.Code)
	require.EqualValues(t, 0, e.Status)
	require.Len(t, e.Errors, 3, "serial number, amount and key are each named: %+v", e.Errors)
	_, err = c.Submit(context.Background(), r)
	require.ErrorIs(t, err, ErrInvalidRequest, "a refund that was never checked is refused")
	_, err = c.RunRefund(context.Background(), DeviceRefund{}, RunOptions{})
	require.ErrorIs(t, err, ErrInvalidRequest)
	assert.EqualValues(t, 0, calls.Load(), "%d requests reached the server", calls.Load())
}

func TestClientGivesUpOnFinalErrors(t *testing.T) {
	var calls atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 409, map[string]any{"type": ProblemTypeBase + "#idempotency-key-in-use", "title": "Idempotency-Key in use", "status": 409})
	}))
	_, err := c.Submit(context.Background(), deviceRefund(t, NewIdempotencyKey()))
	require.ErrorIs(t, err, &Error{Code: CodeIdempotencyKeyInUse})
	require.EqualValues(t, 1, calls.Load())
}

func TestClientNetworkErrorAfterRetries(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	_, err := c.Refund(context.Background(), "CD3HN88U9F")
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, CodeNetworkError, e.Code)
	require.True(t, e.Retryable())
	require.EqualValues(t, 0, e.Status)
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
	require.NoError(t, err)
	got := calls.Load()
	assert.EqualValues(t, 5, got)
	require.Len(t, seen, 2)
	require.Equal(t, StatusInProgress, seen[0])
	require.Equal(t, StatusCompleted, seen[1])
	assert.Equal(t, "CD3HN88U9F", inst.RefundID, "RefundID = %q", inst.RefundID)
}

func TestClientWatchEndsOnNotFound(t *testing.T) {
	c, _ := instructionServer(t, []string{"inProgress", "404"})
	_, err := c.Watch(context.Background(), "abc", nil)
	require.ErrorIs(t, err, ErrNotFound)
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
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
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
			require.NoError(t, err)
			assert.Equal(t, tt.want, inst.Status)
			assert.Equal(t, tt.refund, inst.RefundID)
		})
	}
}

func TestClientCancelNotFoundIsAnError(t *testing.T) {
	c, _ := instructionServer(t, []string{"404"})
	_, err := c.Cancel(context.Background(), "abc")
	require.ErrorIs(t, err, ErrNotFound)
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
			_, err := c.Refund(context.Background(), "CD3HN88U9F")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, renewals.Load())
}

// A token that no longer verifies (the server's key changed) is renewed once from the token source; when the
// new one is refused too, the call ends in the server's own error, with no loop of renewals.
func TestClientRenewsAnInvalidTokenOnce(t *testing.T) {
	var renewals atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, map[string]any{"type": "urn:proxy#lane-token-invalid", "title": "Lane token invalid", "status": 401})
	}))
	c.Tokens = NewStaticToken("stale", func(context.Context) (string, error) {
		return fmt.Sprintf("fresh-%d", renewals.Add(1)), nil
	})
	_, err := c.Refund(context.Background(), "CD3HN88U9F")
	require.ErrorIs(t, err, &Error{Code: CodeLaneTokenInvalid})
	assert.EqualValues(t, 1, renewals.Load(), "renewals for one call")
}

// A revoked lane token is not renewed: the back office ended that sign-in on purpose.
func TestClientDoesNotRenewARevokedToken(t *testing.T) {
	var renewals atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, map[string]any{"type": "urn:proxy#lane-token-revoked", "title": "Lane token revoked", "status": 401})
	}))
	c.Tokens = NewStaticToken("signed-off", func(context.Context) (string, error) {
		return fmt.Sprintf("fresh-%d", renewals.Add(1)), nil
	})
	_, err := c.Refund(context.Background(), "CD3HN88U9F")
	require.ErrorIs(t, err, &Error{Code: CodeLaneTokenRevoked})
	assert.Zero(t, renewals.Load(), "a revoked token was renewed behind the back office's back")
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
			res, err := c.RunRefund(context.Background(), deviceRefund(t, ""), RunOptions{
				OnStatus: func(i *RefundInstruction) { seen = append(seen, i.Status) }})
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Outcome)
			assert.Equal(t, tt.final == "completed", res.Refund != nil, "a refund in the result")
			require.Len(t, seen, 2, "onStatus saw %v", seen)
			require.Equal(t, StatusInProgress, seen[0], "onStatus saw %v", seen)
			require.Equal(t, tt.final, string(seen[1]), "onStatus saw %v", seen)
			assert.NoError(t, isKey(res.Instruction.IdempotencyKey), "the result lost its key: %+v", res.Instruction)
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
			assert.Equal(t, key, r.Header.Get("Idempotency-Key"))
			writeJSON(w, 202, RefundInstruction{RefundInstructionID: "new", Status: StatusInProgress})
		case r.URL.Path == "/v1/refund-instructions/old":
			writeJSON(w, 404, map[string]any{"type": ProblemTypeBase + "#not-found", "title": "Not found", "status": 404})
		default:
			writeJSON(w, 200, RefundInstruction{RefundInstructionID: "new", Status: StatusCanceled})
		}
	}))
	res, err := c.RunRefund(context.Background(), deviceRefund(t, key), RunOptions{RefundInstructionID: "old"})
	require.NoError(t, err)
	assert.EqualValues(t, 1, posts.Load(), "posts = %d, result = %+v", posts.Load(), res)
	assert.Equal(t, OutcomeCanceled, res.Outcome, "posts = %d, result = %+v", posts.Load(), res)
	assert.Equal(t, key, res.Instruction.IdempotencyKey, "posts = %d, result = %+v", posts.Load(), res)
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
	res, err := c.RunRefund(context.Background(), deviceRefund(t, ""), RunOptions{
		OnStatus: func(i *RefundInstruction) { seen = append(seen, i.Status) }})
	require.NoError(t, err)
	first, second := <-keys, <-keys
	assert.EqualValues(t, 2, posts.Load())
	assert.Equal(t, second, first)
	require.Equal(t, OutcomeApproved, res.Outcome)
	require.Len(t, seen, 2)
	require.Equal(t, StatusInProgress, seen[0])
	require.Equal(t, StatusCompleted, seen[1])
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
	_, err := c.RunRefund(context.Background(), deviceRefund(t, ""), RunOptions{})
	require.ErrorIs(t, err, ErrNotFound)
	require.EqualValues(t, 2, posts.Load())
}

// A replayed submit that answers another instruction id (same status, inProgress) is reported: the caller
// must record, watch and cancel the new id, not the forgotten one.
func TestClientRunRefundReportsAReplayWithAnotherInstructionID(t *testing.T) {
	var gets atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && gets.Load() == 0:
			writeJSON(w, 202, RefundInstruction{RefundInstructionID: "first", Status: StatusInProgress})
		case r.Method == "POST":
			writeJSON(w, 202, RefundInstruction{RefundInstructionID: "second", Status: StatusInProgress})
		case r.URL.Path == "/v1/refund-instructions/first":
			gets.Add(1)
			writeJSON(w, 404, map[string]any{"type": ProblemTypeBase + "#not-found", "title": "Not found", "status": 404})
		default:
			gets.Add(1)
			writeJSON(w, 200, RefundInstruction{RefundInstructionID: "second", Status: StatusCanceled})
		}
	}))
	var seen []string
	res, err := c.RunRefund(context.Background(), deviceRefund(t, ""), RunOptions{
		OnStatus: func(i *RefundInstruction) { seen = append(seen, i.RefundInstructionID+":"+string(i.Status)) }})
	require.NoError(t, err)
	assert.Equal(t, []string{"first:inProgress", "second:inProgress", "second:canceled"}, seen,
		"onStatus must see the replay's new instruction id although its status did not change")
	assert.Equal(t, OutcomeCanceled, res.Outcome)
}

// deviceRefund is validRequest for device 1850010868 under key ("" makes one).
func deviceRefund(t *testing.T, key string) DeviceRefund {
	t.Helper()
	r, err := NewDeviceRefund("1850010868", *validRequest(), key)
	require.NoError(t, err)
	return r
}
