package sim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/strict"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// FuzzSubmitBody: whatever the body, a submit is accepted (202) or refused with a 400 problem naming the
// fields, never a server error, and a refused one creates nothing.
func FuzzSubmitBody(f *testing.F) {
	f.Add(body(4999))
	f.Add(body(4903))
	f.Add(strings.Replace(body(4999), "4999", "49.99", 1))
	f.Add(`{"processingTerminalId":"1234001","order":{"orderId":"O","description":"d","amount":1,"currency":"usd"}}`)
	f.Add(`{"processingTerminalId":"1234002","order":{"orderId":"O","description":"d","amount":1,"currency":"USD"}}`)
	f.Add(`{"processingTerminalId":"1234001","order":{"orderId":"O","description":"d","amount":1,"currency":"USD"},` +
		`"customer":{"billingAddress":{"address1":"1 Example Ave.","city":"Chicago","state":"IL","country":"US","postalCode":"60056"}},` +
		`"ipAddress":{"type":"ipv4","value":"192.0.2.1"},"customizationOptions":{"entryMethod":"manualEntry"}}`)
	f.Add(`[]`)
	f.Add(`{"order":null}`)
	f.Add("")

	s := sim.New(sim.Config{Delay: time.Hour, MaxInstructions: 1000})
	f.Cleanup(s.Close)
	rec := httptest.NewRecorder()
	auth := httptest.NewRequest("POST", "/authorize", nil)
	auth.Header.Set("x-api-key", s.APIKey())
	s.ServeHTTP(rec, auth)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, b string) {
		before := s.Stats().InstructionsCreated
		req := httptest.NewRequest("POST", "/v1/devices/1850010868/refund-instructions", strings.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", payroc.NewIdempotencyKey())
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		created := s.Stats().InstructionsCreated - before
		switch rec.Code {
		case http.StatusAccepted:
			var ri payroc.RefundInstruction
			err := json.Unmarshal(rec.Body.Bytes(), &ri)
			require.NoError(t, err, "202 %s (created %d)", rec.Body, created)
			require.Equal(t, payroc.StatusInProgress, ri.Status, "202 %s (created %d)", rec.Body, created)
			require.EqualValues(t, 1, created, "202 %s (created %d)", rec.Body, created)
			_, err = strict.DecodeRefundInstructionRequest([]byte(b))
			require.NoError(t, err, "accepted a body the decoder refuses: %v", err)
			_ = s.Finish(ri.RefundInstructionID, payroc.StatusCanceled) // let the cap evict it
		case http.StatusBadRequest:
			p := payroc.ParseProblem(rec.Code, nil, rec.Body.Bytes())
			require.Equal(t, payroc.CodeBadRequest, p.Code, "400 %s (created %d)", rec.Body, created)
			require.NotEmpty(t, p.Errors, "400 %s (created %d)", rec.Body, created)
			require.NotEmpty(t, p.Errors[0].Parameter, "400 %s (created %d)", rec.Body, created)
			require.EqualValues(t, 0, created, "400 %s (created %d)", rec.Body, created)
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
