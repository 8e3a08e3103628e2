package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// A request framed two ways (Content-Length and Transfer-Encoding, in any spelling net/http takes as chunked)
// is refused, and its connection closed: the request pipelined after it is never served (RFC 9112 §6.1).
func TestAmbiguousFramingIsRefusedAndClosed(t *testing.T) {
	h := newHarness(t)
	tok := h.token("front-1", 100000)
	for _, tc := range []struct{ name, framing string }{
		{"Content-Length and chunked", "Content-Length: 5\nTransfer-Encoding: chunked"},
		{"chunked padded with spaces", "Content-Length: 5\nTransfer-Encoding:  chunked"},
		{"Chunked capitalised", "Content-Length: 5\nTransfer-Encoding: Chunked"},
		{"chunked before Content-Length", "Transfer-Encoding: chunked\nContent-Length: 5"},
		{"chunked alone", "Transfer-Encoding: chunked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dialRaw()
			c.send("POST /v1/devices/1850010868/refund-instructions HTTP/1.1\nHost: x\nAuthorization: Bearer " + tok +
				"\nContent-Type: application/json\nIdempotency-Key: 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\n" + tc.framing +
				"\n\n2\n{}\n0\n\nGET /healthz HTTP/1.1\nHost: x\n\n")
			res, body := c.response(10 * time.Second)
			problemOf(t, res, []byte(body), http.StatusBadRequest, "bad-request")
			require.True(t, res.Close, "the refusal must announce Connection: close")
			require.True(t, c.closed(10*time.Second), "the connection stayed open: the pipelined request would be served")
		})
	}
	assert.Zero(t, h.sim.Stats().Requests[sim.RouteSubmit], "an ambiguous submit went upstream")
}

// More than one Authorization header is refused, whichever comes first: a hop that reads the last one
// must not see another credential than the proxy did.
func TestTwoCredentialsAreRefused(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.AdminKey = testAdminKey })
	tok := h.token("front-1", 100000)
	for _, tc := range []struct {
		name, method, path string
		creds              []string
		status             int
		slug               string
	}{
		{"GET /lane", "GET", "/lane", []string{"Bearer " + tok, "Bearer " + tok}, 401, "lane-token-invalid"},
		{"GET /lane, a bad one second", "GET", "/lane", []string{"Bearer " + tok, "Bearer x"}, 401, "lane-token-invalid"},
		{"a status GET", "GET", "/v1/refund-instructions/abc", []string{"Bearer " + tok, "Bearer " + tok}, 401, "lane-token-invalid"},
		{"the admin endpoint", "POST", "/admin/lane-tokens", []string{"Bearer " + testAdminKey, "Bearer " + testAdminKey}, 401, "not-authorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader(`{"devices":["1850010868"],"maxAmount":5}`)
			}
			req, err := http.NewRequest(tc.method, h.url+tc.path, body)
			require.NoError(t, err)
			req.Header["Authorization"] = tc.creds
			res, err := h.client.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			problemOf(t, res, b, tc.status, tc.slug)
		})
	}
}

// A GET from another site's page is refused like a POST (403), not answered without CORS headers; an
// allowed origin and the proxy's own pages still pass.
func TestCrossOriginGetIsRefused(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.AllowOrigins = []string{"https://till.example"} })
	tok := h.token("front-1", 100000)
	for _, tc := range []struct {
		name, path, origin, site string
		status                   int
	}{
		{"/lane from another site", "/lane", "https://evil.example", "cross-site", 403},
		{"/lane from another site, no Sec-Fetch-Site", "/lane", "https://evil.example", "", 403},
		{"a status GET from another site", "/v1/refund-instructions/abc", "https://evil.example", "cross-site", 403},
		{"/dev/token from another site", "/dev/token", "https://evil.example", "cross-site", 403},
		{"/lane from an allowed origin", "/lane", "https://till.example", "cross-site", 200},
		{"/lane from the proxy's own page", "/lane", "", "same-origin", 200},
		{"/lane from a non-browser client", "/lane", "", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := h.do("GET", tc.path, tok, nil, map[string]string{"Origin": tc.origin, "Sec-Fetch-Site": tc.site})
			if tc.status == 403 {
				problemOf(t, res, b, 403, "forbidden")
				return
			}
			require.Equal(t, tc.status, res.StatusCode, "%s", b)
		})
	}
}

// In production mode only the configured hosts are answered; a forged Host gets 421 and never reaches
// link.href. The probes answer on any name; the simulator stays lenient.
func TestHostIsCheckedInProduction(t *testing.T) {
	production := func(publicURL string) option {
		return func(_ *sim.Config, c *server.Config) { c.Simulate, c.PublicURL = false, publicURL }
	}
	bare := newHarness(t, production(""))
	public := newHarness(t, production("https://pos.example"))
	demo := newHarness(t)
	own := strings.TrimPrefix(bare.url, "http://")
	for _, tc := range []struct {
		name   string
		h      *harness
		path   string
		host   string
		status int // http.StatusMisdirectedRequest: refused as misdirected
	}{
		{"a forged Host", bare, "/lane", "evil.example", http.StatusMisdirectedRequest},
		{"a forged Host on the API", bare, "/v1/refunds/abc", "evil.example", http.StatusMisdirectedRequest},
		{"a forged Host on a static file", bare, "/", "evil.example", http.StatusMisdirectedRequest},
		{"the address the client dialled", bare, "/lane", own, http.StatusOK},
		{"a probe by any name", bare, "/healthz", "10.0.0.7:8080", http.StatusOK},
		{"the public host", public, "/lane", "POS.example", http.StatusOK},
		{"the public host with its default port", public, "/lane", "pos.example:443", http.StatusOK},
		{"another host beside a public URL", public, "/lane", "evil.example", http.StatusMisdirectedRequest},
		{"the simulator, any host", demo, "/lane", "evil.example", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", tc.h.url+tc.path, nil)
			require.NoError(t, err)
			req.Host = tc.host
			req.Header.Set("Authorization", "Bearer "+tc.h.token("front-1", 100000))
			res, err := tc.h.client.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if tc.status == http.StatusMisdirectedRequest {
				problemOf(t, res, b, http.StatusMisdirectedRequest, "misdirected-request")
				return
			}
			require.Equal(t, tc.status, res.StatusCode, "%s", b)
		})
	}
	assert.Contains(t, strings.Join(bare.proxy.Warnings(), "\n"), "421", "no start warning about the missing public URL")
	assert.NotContains(t, strings.Join(public.proxy.Warnings(), "\n"), "421")
}
