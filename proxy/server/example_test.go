package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// Run the proxy in-process in front of the simulator, as the end-to-end suite does: the simulator on one
// loopback server, the proxy on another, and the payroc client (what the browser's wasm runs) talking to the
// proxy with a lane token from /dev/token.
func ExampleNew() {
	s := sim.New(sim.Config{Delay: 10 * time.Millisecond, Hold: 200 * time.Millisecond})
	defer s.Close()
	upstream := httptest.NewServer(s)
	defer upstream.Close()

	var devices []server.Device
	for _, d := range s.Devices() {
		devices = append(devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID, Label: d.Label})
	}
	p, err := server.New(server.Config{
		APIURL:       upstream.URL + "/v1", // Payroc's API base ends in /v1
		IdentityURL:  upstream.URL,         // POST {IdentityURL}/authorize
		APIKey:       s.APIKey(),
		Simulate:     true, // enables GET /dev/token
		Devices:      devices,
		WebDir:       "../../web", // the page, payroc.js and payroc.wasm
		TokenSecrets: [][]byte{[]byte("example signing key, at least 32 bytes long")},
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	front := httptest.NewServer(p)
	defer front.Close()
	defer p.Close()

	res, err := http.Get(front.URL + "/dev/token")
	if err != nil {
		fmt.Println(err)
		return
	}
	var tok server.TokenResponse
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()

	client := &payroc.Client{BaseURL: front.URL + "/v1", Tokens: payroc.NewStaticToken(tok.Token, nil)}
	refund, err := payroc.NewDeviceRefund("1850010868", payroc.RefundInstructionRequest{
		ProcessingTerminalID: "1234001",
		Order:                payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund for ORDER-1001", Amount: 4999, Currency: "USD"},
		Operator:             "cashier-1",
	}, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := client.RunRefund(context.Background(), refund, payroc.RunOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Outcome, r.Refund.TransactionResult.ResponseCode)
	// Output: approved A
}
