package payroc

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validRequest() *RefundInstructionRequest {
	return &RefundInstructionRequest{
		ProcessingTerminalID: "1234001",
		Order:                RefundOrder{OrderID: "ORDER-1001", Description: "Refund for ORDER-1001", Amount: 4999, Currency: "USD"},
		Operator:             "cashier-1",
	}
}

func TestValidateRequest(t *testing.T) {
	yes := true
	tests := []struct {
		name   string
		mutate func(r *RefundInstructionRequest)
		fields []string // the parameters named, in order; nil means valid
	}{
		{"valid", func(r *RefundInstructionRequest) {}, nil},
		{"zero amount", func(r *RefundInstructionRequest) { r.Order.Amount = 0 }, []string{"order.amount"}},
		{"negative amount", func(r *RefundInstructionRequest) { r.Order.Amount = -5 }, []string{"order.amount"}},
		{"amount beyond 2^53", func(r *RefundInstructionRequest) { r.Order.Amount = 1 << 53 }, []string{"order.amount"}},
		{"largest safe amount", func(r *RefundInstructionRequest) { r.Order.Amount = MaxAmount }, nil},
		{"unknown currency", func(r *RefundInstructionRequest) { r.Order.Currency = "XXX" }, []string{"order.currency"}},
		{"lower-case currency", func(r *RefundInstructionRequest) { r.Order.Currency = "usd" }, []string{"order.currency"}},
		{"missing currency", func(r *RefundInstructionRequest) { r.Order.Currency = "" }, []string{"order.currency"}},
		{"order id too long", func(r *RefundInstructionRequest) { r.Order.OrderID = strings.Repeat("9", 25) }, []string{"order.orderId"}},
		{"order id 24 multibyte characters", func(r *RefundInstructionRequest) { r.Order.OrderID = strings.Repeat("é", 24) }, nil},
		{"missing description", func(r *RefundInstructionRequest) { r.Order.Description = "" }, []string{"order.description"}},
		{"description too long", func(r *RefundInstructionRequest) { r.Order.Description = strings.Repeat("d", 257) }, []string{"order.description"}},
		{"terminal too short", func(r *RefundInstructionRequest) { r.ProcessingTerminalID = "123" }, []string{"processingTerminalId"}},
		{"operator too long", func(r *RefundInstructionRequest) { r.Operator = strings.Repeat("o", 51) }, []string{"operator"}},
		{"control character", func(r *RefundInstructionRequest) { r.Operator = "cashier\x00" }, []string{"operator"}},
		{"every order field bad", func(r *RefundInstructionRequest) { r.Order = RefundOrder{} },
			[]string{"order.orderId", "order.description", "order.amount", "order.currency"}},
		{"bad entry method", func(r *RefundInstructionRequest) {
			r.CustomizationOptions = &CustomizationOptions{EntryMethod: "chip"}
		}, []string{"customizationOptions.entryMethod"}},
		{"ebt withdrawal on food stamps", func(r *RefundInstructionRequest) {
			r.CustomizationOptions = &CustomizationOptions{EBTDetails: &EBTDetails{BenefitCategory: "foodStamp", Withdrawal: &yes}}
		}, []string{"customizationOptions.ebtDetails.withdrawal"}},
		{"closed loop mifare", func(r *RefundInstructionRequest) {
			r.CustomizationOptions = &CustomizationOptions{ClosedLoopOptions: &ClosedLoopOptions{Type: "mifare"}}
		}, nil},
		{"ip type mismatch", func(r *RefundInstructionRequest) { r.IPAddress = &IPAddress{Type: "ipv4", Value: "::1"} }, []string{"ipAddress.value"}},
		{"ipv6", func(r *RefundInstructionRequest) { r.IPAddress = &IPAddress{Type: "ipv6", Value: "2001:db8::1"} }, nil},
		{"customer limits", func(r *RefundInstructionRequest) {
			r.Customer = &Customer{FirstName: strings.Repeat("f", 61), DateOfBirth: "1990-13-01", NotificationLanguage: "de",
				BillingAddress: &Address{Address1: "1 Example Ave.", City: "Springfield", State: "IL", Country: "usa", PostalCode: "60056"},
				ContactMethods: []ContactMethod{{Type: "email", Value: "no-at-sign"}, {Type: "pager", Value: "1"}, {Type: "phone", Value: strings.Repeat("5", 16)}}}
		}, []string{"customer.firstName", "customer.dateOfBirth", "customer.billingAddress.country",
			"customer.contactMethods[0].value", "customer.contactMethods[1].type", "customer.contactMethods[2].value", "customer.notificationLanguage"}},
		{"billing address requires its fields", func(r *RefundInstructionRequest) {
			r.Customer = &Customer{BillingAddress: &Address{Country: "US"}}
		}, []string{"customer.billingAddress.address1", "customer.billingAddress.city", "customer.billingAddress.state", "customer.billingAddress.postalCode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.mutate(r)
			err := r.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			var e *Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, CodeInvalidRequest, e.Code)
			var got []string
			for _, f := range e.Errors {
				got = append(got, f.Parameter)
			}
			assert.Equal(t, strings.Join(tt.fields, ","), strings.Join(got, ","))
		})
	}
}

func TestDecodeRefundInstructionRequest(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string // "" means valid
	}{
		{"minimal", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`, ""},
		{"decimal amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":49.99,"currency":"USD"}}`, "order.amount"},
		{"string amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":"4999","currency":"USD"}}`, "order.amount"},
		{"unknown field", `{"processingTerminalId":"1234001","surprise":1,"order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`, "surprise"},
		{"dateTime is read-only", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD","dateTime":"2024-07-02T15:30:00Z"}}`, "order.dateTime"},
		{"two objects", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}} {}`, "body"},
		{"not json", `amount=4999`, "body"},
		{"empty", ``, "body"},
		{"array", `[]`, "body"},
		{"validation after decoding", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":0,"currency":"USD"}}`, "order.amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRefundInstructionRequest([]byte(tt.body))
			if tt.field == "" {
				require.NoError(t, err)
				require.NotNil(t, r)
				return
			}
			var e *Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, CodeInvalidRequest, e.Code)
			require.NotEmpty(t, e.Errors)
			assert.Equal(t, tt.field, e.Errors[0].Parameter)
		})
	}
}

func TestIdempotencyKeys(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := NewIdempotencyKey()
		require.True(t, IsUUIDv4(k), "NewIdempotencyKey() = %q, not a UUID v4", k)
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[k] = true
	}
	for _, bad := range []string{"", "8e03978e-40d5-13e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-7c93-6894a57f9324",
		"8e03978e40d543e8bc936894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f932g", "{8e03978e-40d5-43e8-bc93-6894a57f9324}"} {
		assert.NotNil(t, ValidateIdempotencyKey(bad))
	}
	assert.NoError(t, ValidateIdempotencyKey("8E03978E-40D5-43E8-BC93-6894A57F9324"))
}

func TestValidateSerialNumber(t *testing.T) {
	for s, ok := range map[string]bool{"1850010868": true, "": false, "18500/10868": false, strings.Repeat("1", 65): false, "a b": false, "..%2f": false} {
		got := ValidateSerialNumber(s) == nil
		assert.Equal(t, ok, got)
	}
}

func TestCurrencies(t *testing.T) {
	require.Len(t, Currencies, 171)
	for _, c := range []string{"USD", "EUR", "JPY", "BHD", "ZWL"} {
		assert.True(t, ValidCurrency(c), "ValidCurrency(%q) = false", c)
	}
}

func FuzzDecodeRefundInstructionRequest(f *testing.F) {
	f.Add([]byte(`{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"}}`))
	f.Add([]byte(`{"processingTerminalId":"1234001","order":{"amount":1e400}}`))
	f.Add([]byte(`{"customer":{"contactMethods":[{"type":"email","value":"a@b"}]},"ipAddress":{"type":"ipv4","value":"1.2.3.4"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRefundInstructionRequest(body)
		if err != nil {
			var e *Error
			require.True(t, errors.As(err, &e), "error %v is not an invalid-request naming fields", err)
			require.Equal(t, CodeInvalidRequest, e.Code, "error %v is not an invalid-request naming fields", err)
			require.NotEmpty(t, e.Errors, "error %v is not an invalid-request naming fields", err)
			return
		}
		// Whatever decodes must validate and stay within the limits the browser relies on.
		if r.Validate() != nil || r.Order.Amount < 1 || r.Order.Amount > MaxAmount {
			t.Fatalf("accepted an invalid request: %+v", r)
		}
	})
}

func TestDecodeRefusesAmbiguousBodies(t *testing.T) {
	tests := []struct{ name, body, field string }{
		{"duplicate amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":99999999,"currency":"USD","amount":4999}}`, "order.amount"},
		{"duplicate order", `{"processingTerminalId":"1234001","order":{"orderId":"A","description":"d","amount":1,"currency":"USD"},"order":{"orderId":"B","description":"d","amount":2,"currency":"USD"}}`, "order"},
		{"other-case name", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","AMOUNT":4999,"currency":"USD","amount":5}}`, "order.AMOUNT"},
		{"duplicate inside an array item", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[{"type":"phone","value":"1"},{"type":"email","type":"phone","value":"2"}]}}`, "customer.contactMethods[1].type"},
		{"invalid UTF-8", "{\"processingTerminalId\":\"1234001\",\"operator\":\"\xff\",\"order\":{\"orderId\":\"ORDER-1001\",\"description\":\"d\",\"amount\":4999,\"currency\":\"USD\"}}", "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRefundInstructionRequest([]byte(tt.body))
			var e *Error
			require.True(t, errors.As(err, &e))
			require.NotEmpty(t, e.Errors)
			require.Equal(t, tt.field, e.Errors[0].Parameter)
		})
	}
	ok := `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":4999,"currency":"USD"},"customer":{"contactMethods":[{"type":"phone","value":"1"},{"type":"email","value":"a@b"}]}}`
	_, err := DecodeRefundInstructionRequest([]byte(ok))
	require.NoError(t, err, "a body with repeated names in separate objects was refused: %v", err)
}
