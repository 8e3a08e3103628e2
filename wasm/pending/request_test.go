package pending_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/strict"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

func TestParseRequestAcceptsPayrocsBodyWithSerialNumber(t *testing.T) {
	req, err := pending.ParseRequest(validRequest, "8E03978E-40D5-43E8-BC93-6894A57F9324")
	require.NoError(t, err)
	assert.Equal(t, "1850010868", req.SerialNumber())
	assert.Equal(t, int64(4999), req.Body().Order.Amount)
	assert.Equal(t, "cashier-1", req.Body().Operator)
	assert.Equal(t, "8e03978e-40d5-43e8-bc93-6894a57f9324", req.IdempotencyKey(), "the key is read in canonical form")
	// The record marshals back to the same flat shape (the pending record's request).
	b, err := json.Marshal(pending.DeviceRefundRequest{SerialNumber: req.SerialNumber(), RefundInstructionRequest: req.Body()})
	require.NoError(t, err)
	assert.JSONEq(t, validRequest, string(b))
}

func TestParseRequestNamesEveryBadField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		fields []string
	}{
		{"not an object", `[1,2]`, []string{"body"}},
		{"null", `null`, []string{"body"}},
		{"not JSON", `{"a":`, []string{"body"}},
		{"decimal amount", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":49.99,"currency":"USD"}}`, []string{"order.amount"}},
		{"amount as string", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":"4999","currency":"USD"}}`, []string{"order.amount"}},
		{"zero amount and no serial", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":0,"currency":"USD"}}`, []string{"serialNumber", "order.amount"}},
		{"serial not a string", `{"serialNumber":1850010868,"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":1,"currency":"USD"}}`, []string{"serialNumber"}},
		{"unknown field", `{"serialNumber":"1850010868","processingTerminalId":"1234001","tip":5,"order":{"orderId":"ORDER-1001","description":"d","amount":1,"currency":"USD"}}`, []string{"tip"}},
		{"other-case amount", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","Amount":100000,"amount":1,"currency":"USD"}}`, []string{"order.Amount"}},
		{"other-case serial", `{"SerialNumber":"1850010869","serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":1,"currency":"USD"}}`, []string{"SerialNumber"}},
		{"unknown field in a contact", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":1,"currency":"USD"},"customer":{"contactMethods":[{"type":"email","Value":"a@b"}]}}`, []string{"customer.contactMethods[0].Value"}},
		{"empty member name", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":1,"currency":"USD","":2}}`, []string{"order"}},
		{"bad currency and long order id", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001-1234567890123456","description":"d","amount":1,"currency":"usd"}}`, []string{"order.orderId", "order.currency"}},
		{"serial with slash", `{"serialNumber":"18/50","processingTerminalId":"1234001","order":{"orderId":"O","description":"d","amount":1,"currency":"USD"}}`, []string{"serialNumber"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pending.ParseRequest(tc.body, "")
			e, ok := errors.AsType[*payroc.Error](err)
			require.True(t, ok, "want a *payroc.Error, got %v", err)
			require.Equal(t, payroc.CodeInvalidRequest, e.Code)
			var got []string
			for _, f := range e.Errors {
				got = append(got, f.Parameter)
			}
			assert.Subset(t, got, tc.fields, "the fields named")
		})
	}
}

func TestParseRequestChecksTheKeyWithTheFields(t *testing.T) {
	r, err := pending.ParseRequest(validRequest, "")
	require.NoError(t, err)
	k, err := payroc.ParseIdempotencyKey(r.IdempotencyKey())
	require.NoError(t, err, "no key: a new UUID v4 is made")
	assert.Equal(t, k, r.IdempotencyKey(), "in canonical form")

	_, err = pending.ParseRequest(`{"serialNumber":"","processingTerminalId":"1234001","order":{"orderId":"O","description":"d","amount":1,"currency":"USD"}}`, "not-a-uuid")
	e, ok := errors.AsType[*payroc.Error](err)
	require.True(t, ok, "want a *payroc.Error, got %v", err)
	var got []string
	for _, f := range e.Errors {
		got = append(got, f.Parameter)
	}
	assert.ElementsMatch(t, []string{"serialNumber", "Idempotency-Key"}, got, "one error names both")
}

// FuzzParseRequestAgreesWithStrict: for text JSON.stringify could write (valid UTF-8, no repeated member
// names), the module's encoding/json reading and the proxy's strict one accept the same bodies and read
// the same request, so what the page recorded is what the proxy forwards.
func FuzzParseRequestAgreesWithStrict(f *testing.F) {
	for _, b := range []string{
		`{"processingTerminalId":"1234001","operator":"cashier-1","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`,
		`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","Amount":4999,"currency":"USD"}}`,
		`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":49.99,"currency":"USD"}}`,
		`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[{"type":"email","value":"a@b"}]}}`,
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !jsontext.Value(body).IsValid() || len(body) < 2 || body[0] != '{' {
			return // not one object JSON.stringify could write
		}
		sep := ","
		if jsontext.Value(body).Kind() == '{' && len(body) >= 2 && body[1] == '}' {
			sep = ""
		}
		text := `{"serialNumber":"1850010868"` + sep + body[1:]
		got, gotErr := pending.ParseRequest(text, "")
		want, wantErr := strict.DecodeRefundInstructionRequest([]byte(body))
		require.Equal(t, wantErr == nil, gotErr == nil, "ParseRequest: %v; strict: %v", gotErr, wantErr)
		if wantErr == nil {
			require.Equal(t, *want, got.Body())
		}
	})
}
