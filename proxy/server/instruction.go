package server

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/posrefund/cloud/payroc"
)

// parseInstruction reads an instruction answer (nil when it is none). validJSON reports that body is valid
// JSON, so the link rewrite need not check it again.
func parseInstruction(body []byte) (inst *payroc.RefundInstruction, validJSON bool) {
	if !json.Valid(body) {
		return nil, false
	}
	v, ok := scanInstruction(body)
	if !ok && json.Unmarshal(body, &v) != nil {
		return nil, true
	}
	if v.RefundInstructionID == "" || v.Status == "" {
		return nil, true
	}
	return &v, true
}

// instructionNames are RefundInstruction's and Link's JSON names: a member spelled like one in another case
// would be read into it by encoding/json, so scanInstruction leaves such bodies to encoding/json.
var instructionNames = []string{"refundInstructionId", "status", "errorMessage", "link", "refundId", "idempotencyKey",
	"rel", "method", "href"}

// scanInstruction is json.Unmarshal into a RefundInstruction for the usual answer, valid JSON (the caller
// has checked) whose members are named exactly, in ASCII, without escapes, and whose values for the
// instruction's fields are plain strings, null or (link) an object. ok is false for anything else, and the
// caller decodes with encoding/json: both read the same from every body this takes (FuzzProxyParseInstruction).
func scanInstruction(body []byte) (inst payroc.RefundInstruction, ok bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' || !utf8.Valid(body) {
		return inst, false
	}
	ok = eachMember(body, i, func(key []byte, vs, ve int) bool {
		switch string(key) {
		case "refundInstructionId":
			return plainString(body, vs, ve, &inst.RefundInstructionID)
		case "status":
			var s string
			if !plainString(body, vs, ve, &s) {
				return false
			}
			if body[vs] != 'n' {
				inst.Status = payroc.Status(s)
			}
			return true
		case "errorMessage":
			return plainString(body, vs, ve, &inst.ErrorMessage)
		case "refundId":
			return plainString(body, vs, ve, &inst.RefundID)
		case "idempotencyKey":
			return plainString(body, vs, ve, &inst.IdempotencyKey)
		case "link":
			switch body[vs] {
			case 'n':
				inst.Link = nil
				return true
			case '{':
				if inst.Link == nil {
					inst.Link = &payroc.Link{}
				}
				l := inst.Link
				return eachMember(body, vs, func(key []byte, vs, ve int) bool {
					switch string(key) {
					case "rel":
						return plainString(body, vs, ve, &l.Rel)
					case "method":
						return plainString(body, vs, ve, &l.Method)
					case "href":
						return plainString(body, vs, ve, &l.Href)
					}
					return !foldsToName(key)
				})
			}
			return false
		}
		return !foldsToName(key)
	})
	return inst, ok
}

// plainString sets *dst to the string value at body[vs:ve] when it has no escapes, leaves it alone for null
// (as encoding/json does), and reports false for anything else.
func plainString(body []byte, vs, ve int, dst *string) bool {
	switch body[vs] {
	case 'n':
		return true
	case '"':
		raw := body[vs+1 : ve-1]
		for _, c := range raw {
			if c == '\\' {
				return false
			}
		}
		*dst = string(raw)
		return true
	}
	return false
}

// foldsToName reports whether key might be matched to one of instructionNames by encoding/json's
// case-insensitive matching (any key with non-ASCII bytes is taken to).
func foldsToName(key []byte) bool {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	for _, n := range instructionNames {
		if len(n) == len(key) && strings.EqualFold(n, string(key)) {
			return true
		}
	}
	return false
}
