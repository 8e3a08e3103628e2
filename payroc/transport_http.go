//go:build !js

package payroc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
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
		hr.Header.Set(k, v)
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
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxResponseBytes {
		return nil, fmt.Errorf("response body over %d bytes", MaxResponseBytes)
	}
	h := make(Header, len(res.Header))
	for k, vs := range res.Header {
		if len(vs) > 0 {
			h.Set(k, vs[0])
		}
	}
	return &Response{StatusCode: res.StatusCode, Header: h, Body: b}, nil
}

var defaultHTTPClient = &http.Client{}

func defaultDoer() Doer { return HTTPDoer{} }
