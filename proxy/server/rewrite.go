package server

import (
	"bytes"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/posrefund/cloud/internal/httpapi"
)

// rewriteLinkHref returns body with the value of the top-level member link's member href passed through f,
// for a JSON object body (an instruction, a 409 problem). Every other byte is kept: key order, spacing,
// number spelling, unknown members. A body that is not one valid JSON object, or that json v2 refuses
// (a repeated member name, invalid UTF-8), is returned as it is: there is no one reading of it to rewrite.
func rewriteLinkHref(body []byte, f func(href string) (string, bool)) []byte {
	d := decoders.Get().(*jsontext.Decoder)
	defer func() {
		d.Reset(eof{}) // the pooled decoder keeps no reference to body
		decoders.Put(d)
	}()
	d.Reset(bytes.NewBuffer(body)) // a *bytes.Buffer is read in place, without a copy
	start, end, ok := findLinkHref(d)
	if !ok || start < 0 {
		return body
	}
	href, err := jsontext.AppendUnquote(nil, body[start:end])
	if err != nil {
		return body
	}
	nh, rewrite := f(string(href))
	if !rewrite {
		return body
	}
	out := make([]byte, 0, len(body)+len(nh)-len(href)+8)
	out = append(out, body[:start]...)
	if out, err = jsontext.AppendQuote(out, nh); err != nil {
		return body
	}
	return append(out, body[end:]...)
}

var decoders = sync.Pool{New: func() any { return new(jsontext.Decoder) }}

// eof is an empty io.Reader.
type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// findLinkHref reads the whole of d's input, one JSON object, and returns the span of link.href's string
// value (start -1 when there is none); ok is false when the input is not one valid JSON object.
func findLinkHref(d *jsontext.Decoder) (start, end int, ok bool) {
	start = -1
	if d.PeekKind() != '{' {
		return 0, 0, false
	}
	if _, err := d.ReadToken(); err != nil {
		return 0, 0, false
	}
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return 0, 0, false
		}
		if name.String() != "link" || d.PeekKind() != '{' {
			if d.SkipValue() != nil {
				return 0, 0, false
			}
			continue
		}
		if _, err := d.ReadToken(); err != nil { // {
			return 0, 0, false
		}
		for d.PeekKind() == '"' {
			name, err := d.ReadToken()
			if err != nil {
				return 0, 0, false
			}
			if name.String() != "href" || d.PeekKind() != '"' {
				if d.SkipValue() != nil {
					return 0, 0, false
				}
				continue
			}
			v, err := d.ReadValue()
			if err != nil {
				return 0, 0, false
			}
			end = int(d.InputOffset())
			start = end - len(v)
		}
		if _, err := d.ReadToken(); err != nil { // }
			return 0, 0, false
		}
	}
	if _, err := d.ReadToken(); err != nil { // }
		return 0, 0, false
	}
	if _, err := d.ReadToken(); err != io.EOF { // nothing after the object
		return 0, 0, false
	}
	return start, end, true
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
