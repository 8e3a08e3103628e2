package payroc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
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

func TestIdempotencyKeys(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := NewIdempotencyKey()
		require.NoError(t, isKey(k), "a new key must be a UUID v4 in canonical form")
		require.Equal(t, strings.ToLower(k), k, "a new key is lower case")
		require.False(t, seen[k], "duplicate key %q", k)
		seen[k] = true
	}
	for _, bad := range []string{"", "8e03978e-40d5-13e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-7c93-6894a57f9324",
		"8e03978e40d543e8bc936894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f932g", "{8e03978e-40d5-43e8-bc93-6894a57f9324}",
		"urn:uuid:8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f93240", " 8e03978e-40d5-43e8-bc93-6894a57f932",
		"8e03978e+40d5+43e8+bc93+6894a57f9324"} {
		_, err := ParseIdempotencyKey(bad)
		require.Error(t, err, "ParseIdempotencyKey(%q)", bad)
		e, ok := errors.AsType[*Error](err)
		require.True(t, ok)
		assert.Equal(t, CodeInvalidRequest, e.Code)
		assert.Equal(t, "Idempotency-Key", e.Errors[0].Parameter)
	}
	k, err := ParseIdempotencyKey("8E03978E-40D5-43E8-BC93-6894A57F9324")
	require.NoError(t, err, "an upper-case key is the same key")
	assert.Equal(t, "8e03978e-40d5-43e8-bc93-6894a57f9324", k, "and is read in its canonical, lower-case form")
}

// FuzzParseIdempotencyKey: a key is accepted exactly when it is the canonical text of a version 4 UUID
// (in either case), and read as that text in lower case, so the proxy, the simulator and the browser agree
// on which keys exist and spell each one way.
func FuzzParseIdempotencyKey(f *testing.F) {
	for _, k := range []string{"8e03978e-40d5-43e8-bc93-6894a57f9324", "{8e03978e-40d5-43e8-bc93-6894a57f9324}", "8e03978e40d543e8bc936894a57f9324", ""} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		got, err := ParseIdempotencyKey(k)
		if err != nil {
			return
		}
		u, err := uuid.Parse(k)
		require.NoError(t, err)
		assert.Equal(t, strings.ToLower(k), u.String(), "an accepted key is a UUID's canonical text")
		assert.Equal(t, u.String(), got, "and is read in lower case")
		assert.Equal(t, uuid.Version(4), u.Version())
	})
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

// Type errors are worded alike by the module and the proxy: one word per JSON kind, pointers seen through.
func TestTypeWord(t *testing.T) {
	var s *string
	for _, tc := range []struct {
		name string
		t    reflect.Type
		want string
	}{
		{"string", reflect.TypeFor[string](), "a string"},
		{"amount", reflect.TypeFor[int64](), "an integer"},
		{"flag", reflect.TypeFor[bool](), "true or false"},
		{"object", reflect.TypeFor[RefundOrder](), "an object"},
		{"pointer to object", reflect.TypeFor[*RefundOrder](), "an object"},
		{"pointer to string", reflect.TypeOf(s), "a string"},
		{"map", reflect.TypeFor[map[string]any](), "an object"},
		{"array", reflect.TypeFor[[]string](), "an array"},
		{"number", reflect.TypeFor[float64](), "a number"},
		{"unknown", nil, "of another type"},
		{"other", reflect.TypeFor[complex64](), "of another type"},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, TypeWord(tc.t)) })
	}
}

// isKey checks a key is a UUID v4 in canonical form.
func isKey(key string) error {
	k, err := ParseIdempotencyKey(key)
	if err == nil && k != key {
		return fmt.Errorf("key %q is not in canonical form %q", key, k)
	}
	return err
}
