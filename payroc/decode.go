package payroc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxRequestBytes bounds a refund instruction body; real ones are well under 4 KiB.
const MaxRequestBytes = 64 << 10

// DecodeRefundInstructionRequest parses and validates a submit body strictly: one JSON object, no unknown
// fields, numbers of the right kind (an amount of 49.99 is refused, never rounded). Every failure is an
// *Error with code invalid-request naming the fields. The proxy and the simulator both use it.
func DecodeRefundInstructionRequest(body []byte) (*RefundInstructionRequest, error) {
	if len(body) > MaxRequestBytes {
		return nil, NewError(CodeInvalidRequest, "The body is too large", FieldError{Parameter: "body", Message: fmt.Sprintf("must be at most %d bytes", MaxRequestBytes)})
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, NewError(CodeInvalidRequest, "The body is empty", FieldError{Parameter: "body", Message: "is required"})
	}
	// The fast path: an ordinary body (valid UTF-8, one JSON value, every member name distinct and spelled
	// exactly as a field) decodes with one plain Unmarshal and one walk over its bytes. Whatever the walk is
	// not sure of, and every failure, goes the way below, which names the offending field; both ways accept
	// and refuse exactly the same bodies (FuzzDecodeFastPathAgrees holds them to it).
	if utf8.Valid(body) {
		var r RefundInstructionRequest
		if json.Unmarshal(body, &r) == nil && plainMembers(body, requestShape()) {
			if err := r.Validate(); err != nil {
				return nil, err
			}
			return &r, nil
		}
	}
	return decodeStrict(body)
}

// decodeStrict is DecodeRefundInstructionRequest's careful way: each check in turn, each naming the first
// field it refuses.
func decodeStrict(body []byte) (*RefundInstructionRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r RefundInstructionRequest
	if err := dec.Decode(&r); err != nil {
		return nil, decodeError(err, body)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, NewError(CodeInvalidRequest, "The body must be one JSON object", FieldError{Parameter: "body", Message: "has data after the JSON object"})
	}
	// encoding/json is lenient where another reader may not be: it keeps the last of duplicate members,
	// matches names in any case, and replaces invalid UTF-8. A body two parsers could read differently is
	// refused, so what was checked is what Payroc reads.
	if !utf8.Valid(body) {
		return nil, NewError(CodeInvalidRequest, "The body is not valid UTF-8", FieldError{Parameter: "body", Message: "is not valid UTF-8"})
	}
	if p := duplicateMember(body); p != "" {
		return nil, NewError(CodeInvalidRequest, "The body names a field twice", FieldError{Parameter: p, Message: "appears more than once"})
	}
	if p := unknownField(body, reflect.TypeFor[RefundInstructionRequest](), ""); p != "" {
		return nil, NewError(CodeInvalidRequest, "The body has a field Payroc does not accept", FieldError{Parameter: p, Message: "is not a known field (names are case-sensitive)"})
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func decodeError(err error, body []byte) *Error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		p := te.Field
		if p == "" {
			p = "body"
		}
		msg := "must be " + jsonKind(te.Type.Kind().String())
		if te.Value == "number" || strings.HasPrefix(te.Value, "number ") {
			if p == "order.amount" {
				msg = "must be an integer in minor units (4999 for 49.99)"
			}
		}
		return NewError(CodeInvalidRequest, "A field has the wrong type", FieldError{Parameter: p, Message: msg})
	case errors.As(err, &se):
		return NewError(CodeInvalidRequest, "The body is not valid JSON", FieldError{Parameter: "body", Message: fmt.Sprintf("is not valid JSON at byte %d", se.Offset)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if p := unknownField(body, reflect.TypeFor[RefundInstructionRequest](), ""); p != "" {
			f = p
		}
		if f == "" || strings.HasSuffix(f, ".") { // a member named "": name the object that holds it
			p := strings.TrimSuffix(f, ".")
			if p == "" {
				p = "body"
			}
			return NewError(CodeInvalidRequest, "The body has a field Payroc does not accept", FieldError{Parameter: p, Message: "has a member with an empty name"})
		}
		return NewError(CodeInvalidRequest, "The body has a field Payroc does not accept", FieldError{Parameter: f, Message: "is not a known field"})
	default:
		return NewError(CodeInvalidRequest, "The body is not valid JSON", FieldError{Parameter: "body", Message: err.Error()})
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "int64", "int", "int32":
		return "an integer"
	case "bool":
		return "true or false"
	case "struct", "ptr", "map":
		return "an object"
	case "slice":
		return "an array"
	case "float64":
		return "a number"
	}
	return "of another type"
}

// unknownField finds the JSON path of the first member of raw that t has no field for. encoding/json names
// only the member ("dateTime"); a cashier's integrator needs "order.dateTime".
func unknownField(raw []byte, t reflect.Type, prefix string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return ""
		}
		known := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			known[name] = f.Type
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := known[k] // exact: encoding/json would also take "AMOUNT" for amount
			if !ok {
				return prefix + k
			}
			if p := unknownField(m[k], ft, prefix+k+"."); p != "" {
				return p
			}
		}
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return ""
		}
		for i, it := range items {
			if p := unknownField(it, t.Elem(), strings.TrimSuffix(prefix, ".")+fmt.Sprintf("[%d].", i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// duplicateMember returns the JSON path of the first member that appears twice in one object, or "".
func duplicateMember(body []byte) string {
	p, _ := duplicateIn(json.NewDecoder(bytes.NewReader(body)), "")
	return p
}

func duplicateIn(dec *json.Decoder, path string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", err
			}
			k, _ := kt.(string)
			p := k
			if path != "" {
				p = path + "." + k
			}
			if seen[k] {
				return p, nil
			}
			seen[k] = true
			if d, err := duplicateIn(dec, p); d != "" || err != nil {
				return d, err
			}
		}
		_, err = dec.Token() // }
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if d, err := duplicateIn(dec, fmt.Sprintf("%s[%d]", path, i)); d != "" || err != nil {
				return d, err
			}
		}
		_, err = dec.Token() // ]
	}
	return "", err
}

// shape is what plainMembers knows of a Go type: for a struct, its fields' JSON names and shapes; for a slice,
// its element's shape. Other kinds (strings, numbers…) have no shape (nil): only their objects' member names
// are checked for repeats, as duplicateMember does.
type shape struct {
	isStruct bool
	fields   []shapeField // struct fields, when struct
	elem     *shape       // slice element, when slice
	// unsure marks a struct whose names plainMembers cannot vouch for (untagged, "-", embedded or unexported
	// fields, repeated names, or more than 64 fields): bodies reaching it take the careful way.
	unsure bool
}

type shapeField struct {
	name  string
	shape *shape
}

var requestShape = sync.OnceValue(func() *shape { return shapeOf(reflect.TypeFor[RefundInstructionRequest](), map[reflect.Type]*shape{}) })

// shapeOf builds t's shape once (seen breaks cycles).
func shapeOf(t reflect.Type, seen map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &shape{isStruct: true}
		seen[t] = s
		if t.NumField() > 64 {
			s.unsure = true
		}
		names := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || f.Anonymous || !f.IsExported() || names[name] {
				s.unsure = true
			}
			names[name] = true
			s.fields = append(s.fields, shapeField{name: name})
			s.fields[i].shape = shapeOf(f.Type, seen)
		}
		return s
	case reflect.Slice:
		s := &shape{}
		seen[t] = s
		s.elem = shapeOf(t.Elem(), seen)
		return s
	}
	return nil
}

// plainMembers reports whether body, one valid JSON value of UTF-8 text, names no member twice in any object,
// escapes no member name, and names in every object read into a struct (following sh) only that struct's
// fields, spelled exactly. It is duplicateMember and unknownField in one allocation-free walk that can only
// say yes or "not sure" (false); the caller has already had encoding/json check the syntax, and the walk
// stays within body whatever it is given.
func plainMembers(body []byte, sh *shape) bool {
	w := memberWalk{b: body}
	if !w.value(sh) {
		return false
	}
	w.space()
	return w.i == len(w.b)
}

type memberWalk struct {
	b []byte
	i int
}

func (w *memberWalk) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// str reads the string at w.i (its opening quote): its raw bytes and whether any is escaped.
func (w *memberWalk) str() (s []byte, escaped, ok bool) {
	start := w.i + 1
	for i := start; i < len(w.b); i++ {
		switch w.b[i] {
		case '"':
			w.i = i + 1
			return w.b[start:i], escaped, true
		case '\\':
			escaped = true
			i++
		}
	}
	return nil, false, false
}

func (w *memberWalk) value(sh *shape) bool {
	w.space()
	if w.i >= len(w.b) {
		return false
	}
	switch w.b[w.i] {
	case '{':
		return w.object(sh)
	case '[':
		w.i++
		var elem *shape
		if sh != nil {
			elem = sh.elem
		}
		w.space()
		if w.i < len(w.b) && w.b[w.i] == ']' {
			w.i++
			return true
		}
		for {
			if !w.value(elem) {
				return false
			}
			if done, ok := w.after(']'); done || !ok {
				return ok
			}
		}
	case '"':
		_, _, ok := w.str()
		return ok
	default: // a number, true, false or null
		start := w.i
		for w.i < len(w.b) {
			switch w.b[w.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return w.i > start
			}
			w.i++
		}
		return w.i > start
	}
}

// maxPlainMembers bounds the members of one object outside a struct the walk compares pairwise.
const maxPlainMembers = 32

func (w *memberWalk) object(sh *shape) bool {
	w.i++ // {
	isStruct := sh != nil && sh.isStruct
	if isStruct && sh.unsure {
		return false
	}
	var got uint64                    // struct: the fields seen
	var names [maxPlainMembers][]byte // other objects: the names seen
	n := 0
	w.space()
	if w.i < len(w.b) && w.b[w.i] == '}' {
		w.i++
		return true
	}
	for {
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			return false
		}
		k, escaped, ok := w.str()
		if !ok || escaped {
			return false
		}
		var next *shape
		if isStruct {
			j := -1
			for fi := range sh.fields {
				if sh.fields[fi].name == string(k) {
					j = fi
					break
				}
			}
			if j < 0 || got&(1<<j) != 0 {
				return false
			}
			got |= 1 << j
			next = sh.fields[j].shape
		} else {
			if n == maxPlainMembers {
				return false
			}
			for _, seen := range names[:n] {
				if bytes.Equal(seen, k) {
					return false
				}
			}
			names[n] = k
			n++
		}
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return false
		}
		w.i++
		if !w.value(next) {
			return false
		}
		if done, ok := w.after('}'); done || !ok {
			return ok
		}
	}
}

// after reads what follows a member or element: a comma (more to come), or close (done); anything else is
// not ok.
func (w *memberWalk) after(close byte) (done, ok bool) {
	w.space()
	if w.i >= len(w.b) {
		return false, false
	}
	switch w.b[w.i] {
	case ',':
		w.i++
		return false, true
	case close:
		w.i++
		return true, true
	}
	return false, false
}
