package main

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/posrefund/cloud/payroc"
)

func TestParseRequestAcceptsPayrocsBodyWithSerialNumber(t *testing.T) {
	req, err := parseRequest(validRequest)
	if err != nil {
		t.Fatal(err)
	}
	if req.SerialNumber != "1850010868" || req.Order.Amount != 4999 || req.Operator != "cashier-1" {
		t.Fatalf("got %+v", req)
	}
	// It marshals back to the same flat shape (the pending record's request).
	var back map[string]any
	b, _ := json.Marshal(req)
	_ = json.Unmarshal(b, &back)
	if back["serialNumber"] != "1850010868" || back["processingTerminalId"] != "1234001" {
		t.Fatalf("marshalled as %s", b)
	}
}

func TestParseRequestNamesEveryBadField(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"not an object", `[1,2]`, []string{"body"}},
		{"null", `null`, []string{"body"}},
		{"decimal amount", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":49.99,"currency":"USD"}}`, []string{"order.amount"}},
		{"amount as string", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":"4999","currency":"USD"}}`, []string{"order.amount"}},
		{"zero amount and no serial", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":0,"currency":"USD"}}`, []string{"serialNumber", "order.amount"}},
		{"serial not a string", `{"serialNumber":1850010868,"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"d","amount":1,"currency":"USD"}}`, []string{"serialNumber"}},
		{"unknown field", `{"serialNumber":"1850010868","processingTerminalId":"1234001","tip":5,"order":{"orderId":"ORDER-1001","description":"d","amount":1,"currency":"USD"}}`, []string{"tip"}},
		{"bad currency and long order id", `{"serialNumber":"1850010868","processingTerminalId":"1234001","order":{"orderId":"ORDER-1001-1234567890123456","description":"d","amount":1,"currency":"usd"}}`, []string{"order.orderId", "order.currency"}},
		{"serial with slash", `{"serialNumber":"18/50","processingTerminalId":"1234001","order":{"orderId":"O","description":"d","amount":1,"currency":"USD"}}`, []string{"serialNumber"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRequest(tt.body)
			var e *payroc.Error
			if !errors.As(err, &e) || e.Code != payroc.CodeInvalidRequest {
				t.Fatalf("err = %v, want invalid-request", err)
			}
			var got []string
			for _, f := range e.Errors {
				got = append(got, f.Parameter)
			}
			for _, want := range tt.fields {
				if !slices.Contains(got, want) {
					t.Fatalf("errors name %v, want %q among them", got, want)
				}
			}
		})
	}
}

func TestToJSErrorShapes(t *testing.T) {
	raw := `{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","title":"Cannot be canceled","status":409,"detail":"x"}`
	tests := []struct {
		name        string
		err         error
		code        string
		status      int
		retryable   bool
		problemNull bool
		fields      int
	}{
		{"server problem passes as sent", payroc.ParseProblem(409, payroc.Header{}, []byte(raw)), "cannot-be-canceled", 409, false, false, 0},
		{"invalid-request gets a problem naming fields", payroc.NewError(payroc.CodeInvalidRequest, "bad",
			payroc.FieldError{Parameter: "order.amount", Message: "must be positive"}), "invalid-request", 0, false, false, 1},
		{"network error", &payroc.Error{Code: payroc.CodeNetworkError, Detail: "offline"}, "network-error", 0, true, true, 0},
		{"5xx without a document", payroc.ParseProblem(503, payroc.Header{}, []byte("busy")), "service-unavailable", 503, true, true, 0},
		{"plain Go error", errors.New("boom"), "internal-error", 0, false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := toJSError(tt.err)
			if e.Name != "PayrocError" || e.Code != tt.code || e.Status != tt.status || e.Retryable != tt.retryable || e.Message == "" {
				t.Fatalf("got %+v", e)
			}
			if (string(e.Problem) == "null") != tt.problemNull {
				t.Fatalf("problem = %s", e.Problem)
			}
			if !tt.problemNull {
				var p struct {
					Status int                 `json:"status"`
					Errors []payroc.FieldError `json:"errors"`
				}
				if err := json.Unmarshal(e.Problem, &p); err != nil || len(p.Errors) != tt.fields {
					t.Fatalf("problem %s: %v", e.Problem, err)
				}
			}
			// It crosses into JavaScript as a plain object with the same members.
			v := errorValue(tt.err)
			if v.Get("code").String() != tt.code || v.Get("status").Int() != tt.status || v.Get("retryable").Bool() != tt.retryable {
				t.Fatalf("js object %s", jsonOf(v))
			}
		})
	}
}
