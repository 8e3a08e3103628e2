package payroc

import "encoding/json"

// DeviceRefund is one refund made ready to send: the device it goes to, Payroc's body, and the
// Idempotency-Key that makes every send of it the same refund, all checked together. NewDeviceRefund is the
// only way to make one, so Submit and RunRefund send only what validated, and check nothing again: a request
// is validated once, where it enters the process.
type DeviceRefund struct {
	serialNumber string
	body         RefundInstructionRequest
	json         []byte // body as sent, encoded once when checked: a later change to body's pointers sends nothing
	key          string
}

// NewDeviceRefund checks a refund before anything is sent: the serial number (it goes in the path), every
// field of body against Payroc's published limits, and key, a UUID v4 ("" makes a new one). The error is one
// invalid-request *Error naming every bad field. The key is kept in its canonical form (lower case, as
// google/uuid writes it), so every later layer sees one spelling of it.
func NewDeviceRefund(serialNumber string, body RefundInstructionRequest, key string) (DeviceRefund, error) {
	var v validator
	if err := ValidateSerialNumber(serialNumber); err != nil {
		v.errs = append(v.errs, err.(*Error).Errors...)
	}
	body.validate(&v)
	if key == "" {
		key = NewIdempotencyKey()
	} else if k, err := ParseIdempotencyKey(key); err != nil {
		v.errs = append(v.errs, err.(*Error).Errors...)
	} else {
		key = k
	}
	if err := v.err(); err != nil {
		return DeviceRefund{}, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return DeviceRefund{}, AsError(err)
	}
	return DeviceRefund{serialNumber: serialNumber, body: body, json: b, key: key}, nil
}

// SerialNumber is the device the refund goes to.
func (d DeviceRefund) SerialNumber() string { return d.serialNumber }

// Body is Payroc's refund-instruction body, as checked.
func (d DeviceRefund) Body() RefundInstructionRequest { return d.body }

// IdempotencyKey is the refund's key, in canonical (lower-case) form.
func (d DeviceRefund) IdempotencyKey() string { return d.key }

// valid tells a DeviceRefund made by NewDeviceRefund from the zero value.
func (d DeviceRefund) valid() error {
	if d.serialNumber == "" || d.key == "" {
		return NewError(CodeInvalidRequest, "The refund was not checked: make it with NewDeviceRefund",
			FieldError{Parameter: "body", Message: "is required"})
	}
	return nil
}
