package payroc

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxAmount is the largest amount accepted, in minor units: 2^53−1, the largest integer a JavaScript number
// keeps exact, so an amount survives the trip through the browser unchanged.
const MaxAmount = 1<<53 - 1

// TypeWord names what a JSON value decoded into Go type t must be, for a FieldError's "must be …": "a string",
// "an integer", "an object"… The module (wasm/pending) and the proxy (internal/strict) decode with different
// libraries and word their type errors with this one function, so a cashier reads the same message either way.
func TypeWord(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.Float64:
		return "a number"
	}
	return "of another type"
}

// validator collects every field error instead of stopping at the first, so a cashier sees them all at once.
type validator struct{ errs []FieldError }

func (v *validator) add(param, msg string) {
	v.errs = append(v.errs, FieldError{Parameter: param, Message: msg})
}

// text checks a string's length in characters and that it holds printable text.
func (v *validator) text(param, s string, min, max int, required bool) {
	n := utf8.RuneCountInString(s)
	switch {
	case s == "" && required:
		v.add(param, "is required")
	case !utf8.ValidString(s):
		v.add(param, "is not valid UTF-8")
	case n < min && s != "":
		v.add(param, fmt.Sprintf("must be at least %d characters", min))
	case n > max:
		v.add(param, fmt.Sprintf("must be at most %d characters", max))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.add(param, "must not contain control characters")
	}
}

func (v *validator) enum(param, s string, allowed ...string) {
	if s == "" {
		return
	}
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add(param, "must be one of "+strings.Join(allowed, ", "))
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	e := NewError(CodeInvalidRequest, "One or more fields are invalid", v.errs...)
	return e
}

// Validate checks the request against Payroc's published limits before anything is sent. The error is an
// *Error with code invalid-request whose Errors name every bad field by JSON path (order.amount…).
func (r *RefundInstructionRequest) Validate() error {
	if r == nil {
		return NewError(CodeInvalidRequest, "The refund request is missing", FieldError{Parameter: "body", Message: "is required"})
	}
	var v validator
	r.validate(&v)
	return v.err()
}

func (r *RefundInstructionRequest) validate(v *validator) {
	v.text("processingTerminalId", r.ProcessingTerminalID, 4, 50, true)
	o := r.Order
	v.text("order.orderId", o.OrderID, 1, 24, true)
	v.text("order.description", o.Description, 1, 256, true)
	switch {
	case o.Amount < 1:
		v.add("order.amount", "must be a positive integer in minor units")
	case o.Amount > MaxAmount:
		v.add("order.amount", fmt.Sprintf("must be at most %d", int64(MaxAmount)))
	}
	if o.Currency == "" {
		v.add("order.currency", "is required")
	} else if !ValidCurrency(o.Currency) {
		v.add("order.currency", "must be an ISO 4217 code Payroc accepts, such as USD")
	}
	v.text("operator", r.Operator, 0, 50, false)
	if c := r.Customer; c != nil {
		c.validate(v, "customer")
	}
	if ip := r.IPAddress; ip != nil {
		validateIP(v, ip)
	}
	if co := r.CustomizationOptions; co != nil {
		v.enum("customizationOptions.entryMethod", co.EntryMethod, "deviceRead", "manualEntry", "deviceReadOrManualEntry")
		if e := co.EBTDetails; e != nil {
			if e.BenefitCategory == "" {
				v.add("customizationOptions.ebtDetails.benefitCategory", "is required")
			}
			v.enum("customizationOptions.ebtDetails.benefitCategory", e.BenefitCategory, "cash", "foodStamp")
			if e.Withdrawal != nil && *e.Withdrawal && e.BenefitCategory != "cash" {
				v.add("customizationOptions.ebtDetails.withdrawal", "applies to EBT cash only")
			}
		}
		if cl := co.ClosedLoopOptions; cl != nil {
			if cl.Type == "" {
				v.add("customizationOptions.closedLoopOptions.type", "is required")
			}
			v.enum("customizationOptions.closedLoopOptions.type", cl.Type, "mifare")
		}
	}
}

func (c *Customer) validate(v *validator, p string) {
	v.text(p+".firstName", c.FirstName, 0, 60, false)
	v.text(p+".lastName", c.LastName, 0, 60, false)
	if c.DateOfBirth != "" {
		if _, err := time.Parse(time.DateOnly, c.DateOfBirth); err != nil {
			v.add(p+".dateOfBirth", "must be a date as YYYY-MM-DD")
		}
	}
	v.text(p+".referenceNumber", c.ReferenceNumber, 0, 48, false)
	if a := c.BillingAddress; a != nil {
		a.validate(v, p+".billingAddress")
	}
	if s := c.ShippingAddress; s != nil {
		v.text(p+".shippingAddress.recipientName", s.RecipientName, 0, 50, false)
		if s.Address != nil {
			s.Address.validate(v, p+".shippingAddress.address")
		}
	}
	for i, m := range c.ContactMethods {
		q := fmt.Sprintf("%s.contactMethods[%d]", p, i)
		switch m.Type {
		case "email":
			v.text(q+".value", m.Value, 1, 50, true)
			if m.Value != "" && !strings.Contains(m.Value, "@") {
				v.add(q+".value", "must be an email address")
			}
		case "phone", "mobile", "fax":
			v.text(q+".value", m.Value, 1, 15, true)
		case "":
			v.add(q+".type", "is required")
		default:
			v.add(q+".type", "must be one of email, phone, mobile, fax")
		}
	}
	v.enum(p+".notificationLanguage", c.NotificationLanguage, "en", "fr")
}

func (a *Address) validate(v *validator, p string) {
	v.text(p+".address1", a.Address1, 1, 150, true)
	v.text(p+".address2", a.Address2, 0, 150, false)
	v.text(p+".address3", a.Address3, 0, 150, false)
	v.text(p+".city", a.City, 1, 50, true)
	v.text(p+".state", a.State, 1, 50, true)
	v.text(p+".postalCode", a.PostalCode, 1, 10, true)
	if len(a.Country) != 2 || strings.ToUpper(a.Country) != a.Country || !isLetters(a.Country) {
		v.add(p+".country", "must be a two-letter ISO 3166-1 code such as US")
	}
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func validateIP(v *validator, ip *IPAddress) {
	switch ip.Type {
	case "ipv4", "ipv6":
		a, err := netip.ParseAddr(ip.Value)
		if err != nil || (ip.Type == "ipv4") != a.Is4() {
			v.add("ipAddress.value", "must be an "+ip.Type+" address")
		}
	case "":
		v.add("ipAddress.type", "is required")
	default:
		v.add("ipAddress.type", "must be one of ipv4, ipv6")
	}
}

// ValidateSerialNumber checks a device serial number (1–64 characters, printable, no slash: it goes in the
// path).
func ValidateSerialNumber(s string) error {
	var v validator
	v.text("serialNumber", s, 1, 64, true)
	if len(v.errs) == 0 && strings.ContainsAny(s, "/?#%\\ ") {
		v.add("serialNumber", "must not contain / ? # % \\ or spaces")
	}
	return v.err()
}

// validateID checks an instruction or refund id before it goes in a path.
func validateID(param, id string) error {
	var v validator
	v.text(param, id, 1, 64, true)
	if len(v.errs) == 0 && strings.ContainsAny(id, "/?#%\\ ") {
		v.add(param, "must not contain / ? # % \\ or spaces")
	}
	return v.err()
}

// ParseIdempotencyKey checks that key is a UUID version 4 (RFC 9562 variant) in its 36-character text form,
// in either case, and returns it in canonical form: lower case, as google/uuid writes it. Each process calls it
// once, where a key enters (the module's API, the proxy's submit), so that every layer after it (the records,
// the device guard, key ownership, the audit) compares one spelling. The length check refuses the other forms
// google/uuid also reads (braces, a urn:uuid: prefix, no hyphens), which another reader might not take for
// the same key.
func ParseIdempotencyKey(key string) (string, error) {
	u, err := uuid.Parse(key)
	if err != nil || len(key) != 36 || u.Version() != 4 || u.Variant() != uuid.RFC4122 {
		return "", NewError(CodeInvalidRequest, "The Idempotency-Key must be a UUID v4",
			FieldError{Parameter: "Idempotency-Key", Message: "must be a UUID v4 such as 8e03978e-40d5-43e8-bc93-6894a57f9324"})
	}
	return u.String(), nil
}

// NewIdempotencyKey returns a fresh random UUID v4 (google/uuid, from crypto/rand) in lower case.
func NewIdempotencyKey() string { return uuid.NewString() }
