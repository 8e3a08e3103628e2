//go:build js

package main

import (
	"encoding/json"
	"errors"

	"github.com/posrefund/cloud/payroc"
)

// DeviceRefundRequest is what submit and refund take from JavaScript: Payroc's refund-instruction body plus
// serialNumber, the device it goes to. It marshals back to the same flat shape for the pending record.
type DeviceRefundRequest struct {
	SerialNumber string `json:"serialNumber"`
	payroc.RefundInstructionRequest
}

// parseRequest reads a request as JSON text (JSON.stringify of the caller's object) strictly: an object,
// serialNumber a string, the rest exactly Payroc's body (no unknown fields, an integer amount in minor
// units). Every problem is one invalid-request error naming all the fields at fault, and nothing is sent.
func parseRequest(text string) (DeviceRefundRequest, error) {
	var out DeviceRefundRequest
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &fields); err != nil || fields == nil {
		return out, payroc.NewError(payroc.CodeInvalidRequest, "The refund request must be an object",
			payroc.FieldError{Parameter: "body", Message: "must be an object with serialNumber, processingTerminalId and order"})
	}
	var fieldErrs []payroc.FieldError
	if raw, ok := fields["serialNumber"]; ok {
		if err := json.Unmarshal(raw, &out.SerialNumber); err != nil {
			fieldErrs = append(fieldErrs, payroc.FieldError{Parameter: "serialNumber", Message: "must be a string"})
		}
		delete(fields, "serialNumber")
	}
	if len(fieldErrs) == 0 {
		if err := payroc.ValidateSerialNumber(out.SerialNumber); err != nil {
			fieldErrs = append(fieldErrs, payroc.AsError(err).Errors...)
		}
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return out, payroc.AsError(err)
	}
	req, err := payroc.DecodeRefundInstructionRequest(body)
	if err != nil {
		var e *payroc.Error
		if !errors.As(err, &e) || e.Code != payroc.CodeInvalidRequest {
			return out, err
		}
		if len(fieldErrs) == 0 {
			return out, e
		}
		merged := *e
		merged.Errors = append(fieldErrs, e.Errors...)
		return out, &merged
	}
	if len(fieldErrs) > 0 {
		return out, payroc.NewError(payroc.CodeInvalidRequest, "One or more fields are invalid", fieldErrs...)
	}
	out.RefundInstructionRequest = *req
	return out, nil
}

// validateKey checks a caller's idempotency key; "" means "make one".
func validateKey(key string) (string, error) {
	if key == "" {
		return payroc.NewIdempotencyKey(), nil
	}
	if err := payroc.ValidateIdempotencyKey(key); err != nil {
		return "", err
	}
	return key, nil
}
