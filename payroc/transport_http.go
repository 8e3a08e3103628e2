//go:build !js

package payroc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// HTTPDoer is the host's Doer, over net/http. The zero value uses http.DefaultTransport with no client
// timeout: the context bounds each call, and long-polls need more than a typical timeout.
type HTTPDoer struct {
	Client *http.Client
}

// Do sends req and reads the whole answer (at most MaxResponseBytes).
func (d HTTPDoer) Do(ctx context.Context, req *Request) (*Response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, err
	}
	for k, v := range req.Header {
		hr.Header[canonicalKey(k)] = []string{v}
	}
	c := d.Client
	if c == nil {
		c = defaultHTTPClient
	}
	res, err := c.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := readBody(res)
	if err != nil {
		return nil, err
	}
	h := make(Header, len(res.Header))
	for k, vs := range res.Header {
		if len(vs) > 0 {
			h[lowerKey(k)] = vs[0]
		}
	}
	return &Response{StatusCode: res.StatusCode, Header: h, Body: b}, nil
}

// readBody reads res.Body whole, at most MaxResponseBytes: into one buffer of the announced length when there
// is one (net/http holds the body to it), where io.ReadAll would grow its buffer several times.
func readBody(res *http.Response) ([]byte, error) {
	if n := res.ContentLength; n >= 0 && n <= MaxResponseBytes {
		b := make([]byte, n)
		if _, err := io.ReadFull(res.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxResponseBytes {
		return nil, fmt.Errorf("response body over %d bytes", MaxResponseBytes)
	}
	return b, nil
}

// The headers the refund calls carry, in net/http's canonical and in Header's lower-case form: converting
// them through these tables costs no allocation per call (the proxy makes two upstream calls per refund).
var (
	canonicalKeys = map[string]string{}
	lowerKeys     = map[string]string{}
)

func init() {
	for _, k := range []string{"Accept", "Authorization", "Content-Type", "Content-Length", "Idempotency-Key",
		"Retry-After", "Date", "Cache-Control", "Location", "Connection", "X-Api-Key", "Vary", "Server"} {
		canonicalKeys[strings.ToLower(k)] = k
		lowerKeys[k] = strings.ToLower(k)
	}
}

func canonicalKey(k string) string {
	if c, ok := canonicalKeys[k]; ok {
		return c
	}
	return http.CanonicalHeaderKey(k)
}

func lowerKey(k string) string {
	if l, ok := lowerKeys[k]; ok {
		return l
	}
	return strings.ToLower(k)
}

var defaultHTTPClient = &http.Client{}

func defaultDoer() Doer { return HTTPDoer{} }
