package server

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/posrefund/cloud/payroc/httpapi"
)

// memberSpans finds the byte ranges of every value of member name in the top-level JSON object obj. ok is
// false when obj is not one well-formed object.
func memberSpans(obj []byte, name string) (spans [][2]int, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := kt.(string)
		afterKey := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		if key != name {
			continue
		}
		start := afterKey
		for start < end && (obj[start] == ':' || obj[start] == ' ' || obj[start] == '\t' || obj[start] == '\n' || obj[start] == '\r') {
			start++
		}
		if !bytes.Equal(obj[start:end], raw) {
			return nil, false
		}
		spans = append(spans, [2]int{start, end})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	return spans, true
}

// replaceMember returns obj with every value of member name passed through f (f's nil result leaves that value
// alone). Every other byte is kept: key order, spacing, number spelling, unknown fields.
func replaceMember(obj []byte, name string, f func(val []byte) []byte) []byte {
	spans, ok := memberSpans(obj, name)
	if !ok || len(spans) == 0 {
		return obj
	}
	out := obj
	copied := false
	for i := len(spans) - 1; i >= 0; i-- {
		sp := spans[i]
		nv := f(obj[sp[0]:sp[1]])
		if nv == nil {
			continue
		}
		if !copied {
			out = bytes.Clone(obj)
			copied = true
		}
		out = append(out[:sp[0]:sp[0]], append(nv, out[sp[1]:]...)...)
	}
	return out
}

// rewriteLinkHref rewrites link.href in a JSON object body (an instruction or a 409 problem) with f.
func rewriteLinkHref(body []byte, f func(href string) (string, bool)) []byte {
	if !json.Valid(body) {
		return rewriteLinkHrefSlow(body, f)
	}
	return rewriteValidLinkHref(body, f)
}

// rewriteValidLinkHref is rewriteLinkHref for a body known to be valid JSON.
func rewriteValidLinkHref(body []byte, f func(href string) (string, bool)) []byte {
	if out, ok := rewriteLinkHrefFast(body, f); ok {
		return out
	}
	return rewriteLinkHrefSlow(body, f)
}

// rewriteLinkHrefSlow is rewriteLinkHref one member at a time through encoding/json's decoder: it reads any
// body, valid JSON or not, with escaped names and all.
func rewriteLinkHrefSlow(body []byte, f func(href string) (string, bool)) []byte {
	return replaceMember(body, "link", func(link []byte) []byte {
		out := replaceMember(link, "href", func(v []byte) []byte {
			var href string
			if json.Unmarshal(v, &href) != nil {
				return nil
			}
			nh, ok := f(href)
			if !ok {
				return nil
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if enc.Encode(nh) != nil {
				return nil
			}
			return bytes.TrimRight(b.Bytes(), "\n")
		})
		if bytes.Equal(out, link) {
			return nil
		}
		return out
	})
}

// linkRewriter maps an upstream link (https://api.payroc.com/v1/refunds/X) to the same resource under the
// proxy's origin (https://pos.example/v1/refunds/X). Only links to the four routes are rewritten: the
// browser can follow nothing else through the proxy.
type linkRewriter struct {
	apiPath string // the upstream API base's path, e.g. "/v1"
}

// rewrite maps href to origin (scheme://host[/prefix], no trailing slash).
func (lr linkRewriter) rewrite(href, origin string) (string, bool) {
	u, err := url.Parse(href)
	if err != nil || u.Path == "" {
		return "", false
	}
	p := u.EscapedPath()
	rest, ok := "", false
	if base := strings.TrimRight(lr.apiPath, "/"); base != "" && strings.HasPrefix(p, base+"/") {
		rest, ok = p[len(base):], true
	}
	if !ok {
		rest, ok = httpapi.TrimV1(p)
	}
	if !ok {
		rest = p // an upstream serving the API at its root
	}
	unescaped, err := url.PathUnescape(rest)
	if err != nil {
		return "", false
	}
	if r, _, _ := httpapi.Match("GET", unescaped); r == httpapi.RouteNone {
		return "", false
	}
	out := origin + "/v1" + rest
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, true
}

// rewriteLinkHrefFast is rewriteLinkHref for the usual answer, a valid JSON object (the caller has made sure)
// whose names (at the top and in link) are unescaped and whose hrefs are plain ASCII: one scan, the output
// built once. ok is false for anything else, which rewriteLinkHrefSlow then reads: both give the same bytes
// for every body the fast one takes (FuzzProxyRewriteFastAgrees).
func rewriteLinkHrefFast(body []byte, f func(href string) (string, bool)) (out []byte, ok bool) {
	type edit struct {
		start, end int
		val        string
	}
	var edits [4]edit
	n := 0
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	ok = eachMember(body, i, func(key []byte, vs, ve int) bool {
		if string(key) != "link" || body[vs] != '{' {
			return true
		}
		return eachMember(body, vs, func(key []byte, hs, he int) bool {
			if string(key) != "href" || body[hs] != '"' {
				return true
			}
			raw := body[hs+1 : he-1]
			if !plainASCII(raw) {
				return false // escapes or other text: the slow way decodes it exactly
			}
			nh, rewrite := f(string(raw))
			if !rewrite {
				return true
			}
			if !plainASCII([]byte(nh)) || n == len(edits) {
				return false
			}
			edits[n] = edit{hs, he, nh}
			n++
			return true
		})
	})
	if !ok {
		return nil, false
	}
	if n == 0 {
		return body, true
	}
	size := len(body)
	for _, e := range edits[:n] {
		size += len(e.val) + 2 - (e.end - e.start)
	}
	out = make([]byte, 0, size)
	at := 0
	for _, e := range edits[:n] {
		out = append(out, body[at:e.start]...)
		out = append(out, '"')
		out = append(out, e.val...)
		out = append(out, '"')
		at = e.end
	}
	return append(out, body[at:]...), true
}

// plainASCII reports whether s is printable ASCII without '"' or '\\': its JSON string is itself in quotes.
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// eachMember calls f with each member of the object at b[i] ('{') of valid JSON b: its name and its value's
// span. It stops, false, at a name with escapes (the caller cannot compare it as is) or when f says false.
func eachMember(b []byte, i int, f func(key []byte, vs, ve int) bool) bool {
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return true
	}
	for {
		ke, escaped := skipString(b, i)
		if escaped {
			return false
		}
		key := b[i+1 : ke-1]
		vs := skipSpace(b, skipSpace(b, ke)+1) // past ':'
		ve := skipValue(b, vs)
		if !f(key, vs, ve) {
			return false
		}
		i = skipSpace(b, ve)
		if b[i] == '}' {
			return true
		}
		i = skipSpace(b, i+1) // past ','
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the end of the string at b[i] ('"') of valid JSON, and whether it has escapes.
func skipString(b []byte, i int) (end int, escaped bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i + 1, escaped
		case '\\':
			escaped = true
			i++
		}
	}
	return len(b), escaped
}

// skipValue returns the end of the value at b[i] of valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i, _ = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	default:
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}
