package payroc

import (
	"context"
	"strings"
)

// Header is a set of HTTP headers with one value each, keyed by lower-case name. Its own type (not
// net/http's) keeps net/http out of the wasm build.
type Header map[string]string

// Get returns the value of name, case-insensitively.
func (h Header) Get(name string) string { return h[strings.ToLower(name)] }

// Set sets name (case-insensitively) to value.
func (h Header) Set(name, value string) { h[strings.ToLower(name)] = value }

// Del removes name.
func (h Header) Del(name string) { delete(h, strings.ToLower(name)) }

// Clone returns a copy of h.
func (h Header) Clone() Header {
	c := make(Header, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}

// Request is one HTTP request as the client makes it: an absolute URL, headers and a complete body.
type Request struct {
	Method string
	URL    string
	Header Header
	Body   []byte
}

// Response is one HTTP answer with its whole body read. Refund API bodies are small; a Doer may refuse a body
// over MaxResponseBytes.
type Response struct {
	StatusCode int
	Header     Header
	Body       []byte
}

// MaxResponseBytes bounds any response body a Doer reads.
const MaxResponseBytes = 1 << 20

// Doer sends one request and returns its answer, or an error when no answer came (the client reports that as
// network-error). It must honour ctx for the whole exchange, body included: a cancelled context ends a
// long-poll at once, and the error returned is then ctx.Err() (or wraps it).
type Doer interface {
	Do(ctx context.Context, req *Request) (*Response, error)
}

// DoerFunc adapts a function to Doer.
type DoerFunc func(ctx context.Context, req *Request) (*Response, error)

// Do calls f.
func (f DoerFunc) Do(ctx context.Context, req *Request) (*Response, error) { return f(ctx, req) }
