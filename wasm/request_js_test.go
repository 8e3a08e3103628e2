package main

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/posrefund/cloud/payroc"
)

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
