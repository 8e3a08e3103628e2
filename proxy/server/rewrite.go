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
