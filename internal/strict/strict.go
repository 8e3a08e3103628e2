// Package strict decodes untrusted refund-instruction bodies for the servers (the proxy and the simulator)
// with github.com/go-json-experiment/json (json v2), so that a body two JSON readers could read differently
// is refused, never forwarded.
//
// json v2 refuses duplicate member names and invalid UTF-8 and matches names exactly; RejectUnknownMembers
// refuses members the request has no field for. encoding/json does none of these (it keeps the last of
// duplicate members, matches names in any case and replaces invalid UTF-8), so a body such as
// {"order":{"amount":1,"AMOUNT":100000}} could be checked as one refund and read by Payroc as another.
//
// The package is host-only by choice: json v2 in the browser module would take payroc.wasm past its size
// budget (P1 in the README; what it measured is in bench/RESULTS.md). The module decodes its caller's objects
// with encoding/json (wasm/pending.ParseRequest); the proxy decodes every body it forwards with this
// package and sends Payroc only its own encoding of what it checked.
package strict

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/posrefund/cloud/payroc"
)

// DecodeRefundInstructionRequest parses and validates a submit body strictly: one JSON object, valid UTF-8,
// every member name once per object, spelled exactly as a field of Payroc's request, numbers of the right
// kind (an amount of 49.99 is refused, never rounded). Every failure is a *payroc.Error with code
// invalid-request naming the field at fault.
func DecodeRefundInstructionRequest(body []byte) (*payroc.RefundInstructionRequest, error) {
	if len(body) > payroc.MaxRequestBytes {
		return nil, invalid("The body is too large", "body", fmt.Sprintf("must be at most %d bytes", payroc.MaxRequestBytes))
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, invalid("The body is empty", "body", "is required")
	}
	if trimmed[0] != '{' { // null would decode as an empty request
		return nil, invalid("The body must be one JSON object", "body", "must be a JSON object")
	}
	var r payroc.RefundInstructionRequest
	if err := json.Unmarshal(body, &r, json.RejectUnknownMembers(true)); err != nil {
		return nil, decodeError(err, body)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Encode is the body the proxy sends upstream for a request it decoded: byte for byte what encoding/json's
// Marshal (the payroc client's encoding, in the browser too) writes, so a replay of the same key carries the
// same bytes whichever side encoded it. FuzzEncodeMatchesEncodingJSON holds it to that.
func Encode(r *payroc.RefundInstructionRequest) ([]byte, error) {
	return json.Marshal(r, encodeLikeV1)
}

// encodeLikeV1 are the options under which json v2 writes these types as encoding/json does: HTML and
// JavaScript line separators escaped, omitempty by Go's zero values (a non-nil empty customer stays {}).
var encodeLikeV1 = json.JoinOptions(jsontext.EscapeForHTML(true), jsontext.EscapeForJS(true),
	jsonv1.OmitEmptyWithLegacySemantics(true))

func invalid(detail, param, msg string) *payroc.Error {
	return payroc.NewError(payroc.CodeInvalidRequest, detail, payroc.FieldError{Parameter: param, Message: msg})
}

// decodeError names the field a json v2 error is about, from the error's JSON pointer and types: never from
// its text.
func decodeError(err error, body []byte) *payroc.Error {
	if se, ok := errors.AsType[*json.SemanticError](err); ok {
		if errors.Is(se.Err, json.ErrUnknownName) {
			parent, name := splitPointer(se.JSONPointer)
			if name == "" {
				return invalid("The body has a field Payroc does not accept", orBody(parent), "has a member with an empty name")
			}
			return invalid("The body has a field Payroc does not accept", join(parent, name), "is not a known field (names are case-sensitive)")
		}
		p := orBody(path(se.JSONPointer))
		msg := "must be " + payroc.TypeWord(se.GoType)
		if p == "order.amount" && se.JSONKind == '0' {
			msg = "must be an integer in minor units (4999 for 49.99)"
		}
		return invalid("A field has the wrong type", p, msg)
	}
	if se, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		switch {
		case errors.Is(se.Err, jsontext.ErrDuplicateName):
			return invalid("The body names a field twice", orBody(path(se.JSONPointer)), "appears more than once")
		case !utf8.Valid(body):
			return invalid("The body is not valid UTF-8", "body", "is not valid UTF-8")
		}
		return invalid("The body is not valid JSON", "body", fmt.Sprintf("is not one valid JSON object (at byte %d)", se.ByteOffset))
	}
	return invalid("The body is not valid JSON", "body", "is not one valid JSON object")
}

// path turns a JSON pointer (/customer/contactMethods/0/type) into the JSON path Payroc's errors[] use
// (customer.contactMethods[0].type). The request's only arrays hold objects, and no field name is a number,
// so a numeric token is an index.
func path(p jsontext.Pointer) string {
	parent, last := splitPointer(p)
	if last == "" && parent == "" {
		return ""
	}
	return join(parent, last)
}

// splitPointer returns the path of p's parent and p's last token as it is (a member name may be anything).
func splitPointer(p jsontext.Pointer) (parent, last string) {
	var toks []string
	for t := range p.Tokens() {
		toks = append(toks, t)
	}
	if len(toks) == 0 {
		return "", ""
	}
	for _, t := range toks[:len(toks)-1] {
		parent = join(parent, t)
	}
	return parent, toks[len(toks)-1]
}

// join appends one pointer token to a path: an index in brackets, a name after a dot.
func join(path, tok string) string {
	if tok != "" && strings.Trim(tok, "0123456789") == "" {
		return path + "[" + tok + "]"
	}
	if path == "" {
		return tok
	}
	return path + "." + tok
}

func orBody(p string) string {
	if p == "" {
		return "body"
	}
	return p
}
