package sim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// A test starts the simulator on a loopback server, points the payroc client at it (identity at the root,
// the API under /v1) and runs a refund. Amounts ending in 01…05 pick the other outcomes.
func ExampleNew() {
	s := sim.New(sim.Config{Delay: 10 * time.Millisecond, Hold: 200 * time.Millisecond})
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()

	client := &payroc.Client{
		BaseURL: srv.URL + "/v1",
		Tokens:  &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: sim.DefaultAPIKey}).Mint},
	}
	refund, err := payroc.NewDeviceRefund("1850010868", payroc.RefundInstructionRequest{
		ProcessingTerminalID: "1234001",
		Order:                payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund for ORDER-1001", Amount: 4999, Currency: "USD"},
		Operator:             "cashier-1",
	}, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := client.RunRefund(context.Background(), refund, payroc.RunOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := res.Refund.TransactionResult
	fmt.Println(res.Outcome, tr.ResponseCode, *tr.AuthorizedAmount, res.Refund.Card.CardNumber)
	// Output: approved A -4999 453985******7062
}

// Faults: the next submit answers 503 and the one after it loses its answer; the client retries with the
// same Idempotency-Key, and the counters show that exactly one refund was made.
func ExampleSimulator_FailNext() {
	s := sim.New(sim.Config{Delay: 10 * time.Millisecond, Hold: 200 * time.Millisecond})
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	_ = s.FailNext(1, http.StatusServiceUnavailable, sim.FailOptions{Route: sim.RouteSubmit, RetryAfter: time.Millisecond})
	_ = s.DropNext(1, sim.RouteSubmit)

	doer := payroc.HTTPDoer{Client: srv.Client()}
	client := &payroc.Client{
		BaseURL: srv.URL + "/v1",
		Doer:    doer,
		Tokens:  &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: s.APIKey(), Doer: doer}).Mint},
		Retry:   payroc.RetryPolicy{BaseDelay: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond},
	}
	key := payroc.NewIdempotencyKey()
	refund, err := payroc.NewDeviceRefund("1850010868", payroc.RefundInstructionRequest{
		ProcessingTerminalID: "1234001",
		Order:                payroc.RefundOrder{OrderID: "ORDER-1002", Description: "Refund for ORDER-1002", Amount: 1500, Currency: "USD"},
	}, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := client.RunRefund(context.Background(), refund, payroc.RunOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	st := s.Stats()
	fmt.Println(res.Outcome, "submits:", st.Requests[sim.RouteSubmit], "instructions:", s.InstructionsFor(key), "refunds:", s.RefundsFor(key))
	// Output: approved submits: 3 instructions: 1 refunds: 1
}

// The same controls over HTTP, for tests that drive a separate process (the proxy's -sim-addr listener).
func Example_controlsOverHTTP() {
	s := sim.New(sim.Config{})
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()

	res, err := srv.Client().Post(srv.URL+"/sim/fail", "application/json",
		strings.NewReader(`{"status":503,"count":1,"route":"identity"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println("/sim/fail:", res.StatusCode)

	req, _ := http.NewRequest("POST", srv.URL+"/authorize", nil)
	req.Header.Set("x-api-key", sim.DefaultAPIKey)
	res, err = srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println("/authorize:", res.StatusCode, res.Header.Get("Content-Type"), "Retry-After", res.Header.Get("Retry-After"))
	// Output:
	// /sim/fail: 204
	// /authorize: 503 application/problem+json Retry-After 1
}
