//go:build !js

package payroc_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// newSimClient starts a simulator and a client for it, as a user's test would.
func newSimClient() (*payroc.Client, func()) {
	s := sim.New(sim.Config{Delay: 150 * time.Millisecond, Hold: 500 * time.Millisecond})
	srv := httptest.NewServer(s)
	return &payroc.Client{
		BaseURL: srv.URL + "/v1",
		Tokens:  &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: sim.DefaultAPIKey}).Mint},
	}, func() { srv.Close(); s.Close() }
}

// Submit, watch and read the refund step by step. Watch reports the first status it sees and each change
// once; each GET is held while the device works, so here the first answer is already the final one.
func ExampleClient_Watch() {
	client, stop := newSimClient()
	defer stop()
	ctx := context.Background()

	refund, err := payroc.NewDeviceRefund("1850010868", payroc.RefundInstructionRequest{
		ProcessingTerminalID: "1234001",
		Order:                payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund for ORDER-1001", Amount: 2501, Currency: "USD"},
	}, "") // "" makes a new Idempotency-Key; refund.IdempotencyKey() holds it for retries
	if err != nil {
		fmt.Println(err)
		return
	}
	inst, err := client.Submit(ctx, refund)
	if err != nil {
		fmt.Println(err)
		return
	}
	final, err := client.Watch(ctx, inst.RefundInstructionID, func(i *payroc.RefundInstruction) {
		fmt.Println("status:", i.Status)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	result, err := client.Refund(ctx, final.RefundID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(payroc.OutcomeOf(result), result.TransactionResult.ResponseCode) // amounts ending 01 are declined
	// Output:
	// status: completed
	// declined D
}

// Cancel returns the instruction as it now stands; only unknown outcomes are errors.
func ExampleClient_Cancel() {
	client, stop := newSimClient()
	defer stop()
	ctx := context.Background()

	refund, _ := payroc.NewDeviceRefund("1850010868", payroc.RefundInstructionRequest{
		ProcessingTerminalID: "1234001",
		Order:                payroc.RefundOrder{OrderID: "ORDER-1003", Description: "Refund for ORDER-1003", Amount: 1003, Currency: "USD"},
	}, "")
	inst, _ := client.Submit(ctx, refund)
	now, err := client.Cancel(ctx, inst.RefundInstructionID) // amounts ending 03: no card is ever presented
	fmt.Println(now.Status, err)

	_, err = client.Cancel(ctx, "0123456789abcdef0123456789abcdef")
	fmt.Println(errors.Is(err, payroc.ErrNotFound))
	// Output:
	// canceled <nil>
	// true
}
