package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/posrefund/cloud/payroc"
)

// The fields encodeRequest writes itself: a change to either type must be looked at there.
func TestProxyEncodeRequestKnowsTheFields(t *testing.T) {
	for typ, want := range map[reflect.Type][]string{
		reflect.TypeFor[payroc.RefundInstructionRequest](): {`ProcessingTerminalID json:"processingTerminalId"`,
			`Order json:"order"`, `Operator json:"operator,omitempty"`, `Customer json:"customer,omitempty"`,
			`IPAddress json:"ipAddress,omitempty"`, `CustomizationOptions json:"customizationOptions,omitempty"`},
		reflect.TypeFor[payroc.RefundOrder](): {`OrderID json:"orderId"`, `Description json:"description"`,
			`Amount json:"amount"`, `Currency json:"currency"`},
	} {
		var got []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			got = append(got, f.Name+" "+string(f.Tag))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v fields %q: encodeRequest writes %q", typ, got, want)
		}
	}
}

func FuzzProxyEncodeRequest(f *testing.F) {
	f.Add("1234001", "ORDER-1001", "Refund for ORDER-1001", int64(4999), "USD", "cashier-1", false)
	f.Add("1234001", "ORDER-<1001>", "Refund & co", int64(-1), "USD", "", false)
	f.Add("1234001", "ORDER-1001", "Rückgabe\u2028", int64(1<<53), "EUR", "caissière", true)
	f.Add("", "\"", "\\", int64(0), "\x00", "\xff", false)
	f.Fuzz(func(t *testing.T, terminal, order, desc string, amount int64, cur, operator string, customer bool) {
		req := &payroc.RefundInstructionRequest{ProcessingTerminalID: terminal, Operator: operator,
			Order: payroc.RefundOrder{OrderID: order, Description: desc, Amount: amount, Currency: cur}}
		if customer {
			req.Customer = &payroc.Customer{FirstName: order}
		}
		want, _ := json.Marshal(req)
		got, err := encodeRequest(req)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("encodeRequest = %s, %v; json.Marshal %s", got, err, want)
		}
	})
}
