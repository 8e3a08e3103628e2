package pending

import (
	"cmp"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/posrefund/cloud/payroc"
)

// DeviceRefundRequest is what submit and refund take from JavaScript: Payroc's refund-instruction body plus
// serialNumber, the device it goes to. It marshals back to the same flat shape for the pending record.
type DeviceRefundRequest struct {
	SerialNumber string `json:"serialNumber"`
	payroc.RefundInstructionRequest
}

// ParseRequest reads a request from its JSON text (payroc.js passes JSON.stringify of the caller's object)
// and checks it, with its Idempotency-Key ("" makes one), for sending: an object, serialNumber a string, the
// rest exactly Payroc's body, every member name one of its fields, spelled exactly (encoding/json alone would
// read "Amount" or "AMOUNT" as amount), an integer amount in minor units. Every problem is one
// invalid-request error naming the fields at fault, and nothing is sent.
//
// The text is read twice, each time for its own purpose: once into a tree, for the exact member names, and
// once into the request, for its values; then payroc.NewDeviceRefund checks the values once. It decodes with
// encoding/json, which the browser module carries anyway (json v2 would not fit its size budget; see package
// internal/strict). JSON.stringify writes no member name twice and no invalid UTF-8, the two other things a
// strict reader refuses; the proxy decodes what it forwards strictly whatever it is sent.
func ParseRequest(text, key string) (payroc.DeviceRefund, error) {
	var tree any
	if err := json.Unmarshal([]byte(text), &tree); err != nil {
		return payroc.DeviceRefund{}, invalid("The refund request is not valid JSON", payroc.FieldError{Parameter: "body", Message: "is not valid JSON"})
	}
	if _, ok := tree.(map[string]any); !ok {
		return payroc.DeviceRefund{}, invalid("The refund request must be an object",
			payroc.FieldError{Parameter: "body", Message: "must be an object with serialNumber, processingTerminalId and order"})
	}
	if p := unknownName(tree, reflect.TypeFor[DeviceRefundRequest](), ""); p != "" {
		return payroc.DeviceRefund{}, invalid("The refund request has a field Payroc does not accept",
			payroc.FieldError{Parameter: p, Message: "is not a known field (names are case-sensitive)"})
	}
	var req DeviceRefundRequest
	if err := json.Unmarshal([]byte(text), &req); err != nil {
		return payroc.DeviceRefund{}, typeError(err)
	}
	return req.check(key)
}

// check makes the request ready to send under key: every field and the key checked at once.
func (r DeviceRefundRequest) check(key string) (payroc.DeviceRefund, error) {
	return payroc.NewDeviceRefund(r.SerialNumber, r.RefundInstructionRequest, key)
}

func invalid(detail string, fields ...payroc.FieldError) *payroc.Error {
	return payroc.NewError(payroc.CodeInvalidRequest, detail, fields...)
}

// typeError names the field of a value of the wrong type.
func typeError(err error) *payroc.Error {
	te, ok := errors.AsType[*json.UnmarshalTypeError](err)
	if !ok {
		return invalid("The refund request is not valid JSON", payroc.FieldError{Parameter: "body", Message: "is not valid JSON"})
	}
	// encoding/json names a field of the embedded body by its Go type first: the caller knows only the JSON path.
	p, msg := strings.TrimPrefix(te.Field, "RefundInstructionRequest."), "must be "+payroc.TypeWord(te.Type)
	if p == "" {
		p = "body"
	}
	if p == "order.amount" && strings.HasPrefix(te.Value, "number") {
		msg = "must be an integer in minor units (4999 for 49.99)"
	}
	return invalid("A field has the wrong type", payroc.FieldError{Parameter: p, Message: msg})
}

// unknownName returns the JSON path of the first member of v (a tree encoding/json decoded into any) whose
// name is not exactly the JSON name of a field of t, or "". Members are taken in name order, so the answer
// does not depend on map order. Values of the wrong kind are left for the typed decoding to name.
func unknownName(v any, t reflect.Type, prefix string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			ft, known := fields[k]
			if !known {
				if k == "" { // name the object that holds it
					return cmp.Or(strings.TrimSuffix(prefix, "."), "body")
				}
				return prefix + k
			}
			if p := unknownName(m[k], ft, prefix+k+"."); p != "" {
				return p
			}
		}
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			return ""
		}
		for i, it := range items {
			if p := unknownName(it, t.Elem(), strings.TrimSuffix(prefix, ".")+"["+strconv.Itoa(i)+"]."); p != "" {
				return p
			}
		}
	}
	return ""
}

// jsonFields maps the JSON names of t's fields (an embedded struct's fields as its own) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			for k, ft := range jsonFields(f.Type) {
				out[k] = ft
			}
			continue
		}
		out[name] = f.Type
	}
	return out
}
