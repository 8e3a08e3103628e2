package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// Another origin's app may import the module straight from the proxy: the module files answer the
// -allow-origin origins with CORS and a Cross-Origin-Resource-Policy that lets them in, and nobody else.
func TestProxyStaticModuleFilesCORS(t *testing.T) {
	const allowed, other = "http://kiosk.example:8081", "http://evil.example"
	dir, _ := webDir(t)
	h := newHarness(t, withWeb(dir), func(_ *sim.Config, c *server.Config) { c.AllowOrigins = []string{allowed} })

	for _, tc := range []struct {
		name, path, origin string
		wantACAO, wantCORP string
		wantVaryOrigin     bool
	}{
		{"module from an allowed origin", "/payroc.js", allowed, allowed, "cross-origin", true},
		{"types from an allowed origin", "/payroc.d.ts", allowed, allowed, "cross-origin", true},
		{"runtime from an allowed origin", "/wasm_exec.js", allowed, allowed, "cross-origin", true},
		{"wasm from an allowed origin", "/payroc.wasm", allowed, allowed, "cross-origin", true},
		{"module from another origin", "/payroc.js", other, "", "same-origin", true},
		{"wasm from another origin", "/payroc.wasm", other, "", "same-origin", true},
		{"runtime from another origin", "/wasm_exec.js", other, "", "same-origin", true},
		{"module, same origin", "/payroc.js", "", "", "same-origin", true},
		{"the page, even from an allowed origin", "/", allowed, "", "same-origin", false},
		{"the page's script, even from an allowed origin", "/app.js", allowed, "", "same-origin", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{"Accept-Encoding": "br, gzip"}
			if tc.origin != "" {
				hdr["Origin"] = tc.origin
			}
			res, b := h.do("GET", tc.path, "", nil, hdr)
			require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
			assert.Equal(t, tc.wantACAO, res.Header.Get("Access-Control-Allow-Origin"), "Access-Control-Allow-Origin")
			assert.Equal(t, tc.wantCORP, res.Header.Get("Cross-Origin-Resource-Policy"), "Cross-Origin-Resource-Policy")
			assert.Equal(t, tc.wantVaryOrigin, varies(res.Header, "Origin"), "Vary: %v", res.Header.Values("Vary"))
			assert.Empty(t, res.Header.Get("Access-Control-Allow-Credentials"), "no credentials are ever allowed")

			// A revalidation (304) says the same, so a cached copy is never handed to the wrong origin.
			hdr["If-None-Match"] = res.Header.Get("ETag")
			res, _ = h.do("GET", tc.path, "", nil, hdr)
			require.Equal(t, http.StatusNotModified, res.StatusCode)
			assert.Equal(t, tc.wantACAO, res.Header.Get("Access-Control-Allow-Origin"), "Access-Control-Allow-Origin on 304")
		})
	}

	t.Run("wasm keeps its encodings", func(t *testing.T) {
		res, _ := h.do("GET", "/payroc.wasm", "", nil, map[string]string{"Origin": allowed, "Accept-Encoding": "br"})
		assert.Equal(t, "br", res.Header.Get("Content-Encoding"))
		assert.True(t, varies(res.Header, "Accept-Encoding") && varies(res.Header, "Origin"), "Vary: %v", res.Header.Values("Vary"))
	})
}

func varies(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(f)) == name {
				return true
			}
		}
	}
	return false
}
