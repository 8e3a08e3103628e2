package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// webDir writes a web directory like `make wasm` leaves it, with precompressed wasm.
func webDir(t *testing.T) (dir string, wasm []byte) {
	t.Helper()
	dir = t.TempDir()
	wasm = append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte("payroc wasm body "), 4000)...)
	var br, gz bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	bw.Write(wasm)
	bw.Close()
	gw := gzip.NewWriter(&gz)
	gw.Write(wasm)
	gw.Close()
	files := map[string][]byte{
		"index.html":       []byte(`<!doctype html><html><head><script type="module" src="/app.js"></script></head><body class="pos"><h1>Refunds</h1></body></html>`),
		"app.js":           []byte(`import { load } from '/payroc.js';`),
		"payroc.js":        []byte(`export async function load() {}`),
		"payroc.d.ts":      []byte(`export declare function load(): Promise<void>;`),
		"wasm_exec.js":     []byte(`"use strict";`),
		"payroc.wasm":      wasm,
		"payroc.wasm.br":   br.Bytes(),
		"payroc.wasm.gz":   gz.Bytes(),
		".env":             []byte("PAYROC_API_KEY=" + testAPIKey),
		"notes.md":         []byte("private notes"),
		"sub/style.css":    []byte("body{}"),
		"sub/.hidden.js":   []byte("hidden"),
		"sub/deeper/x.txt": []byte("x"),
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	// The compressed siblings are never older than the wasm.
	later := time.Now().Add(time.Second)
	for _, n := range []string{"payroc.wasm.br", "payroc.wasm.gz"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, n), later, later))
	}
	return dir, wasm
}

func withWeb(dir string) option {
	return func(_ *sim.Config, c *server.Config) { c.WebDir = dir }
}

func TestProxyStaticHeadersAndRevalidation(t *testing.T) {
	dir, _ := webDir(t)
	h := newHarness(t, withWeb(dir))
	w := h.proxy.Warnings()
	require.Empty(t, w, "warnings with a complete web dir: %v", w)
	for _, tc := range []struct{ path, ctype string }{
		{"/", "text/html; charset=utf-8"},
		{"/payroc.js", "text/javascript; charset=utf-8"},
		{"/app.js", "text/javascript; charset=utf-8"},
		{"/wasm_exec.js", "text/javascript; charset=utf-8"},
		{"/payroc.d.ts", "application/typescript; charset=utf-8"},
		{"/payroc.wasm", "application/wasm"},
		{"/sub/style.css", "text/css; charset=utf-8"},
		{"/favicon.ico", "image/x-icon"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, body := h.do("GET", tc.path, "", nil, nil)
			require.EqualValues(t, 200, res.StatusCode, "%d %q", res.StatusCode, res.Header.Get("Content-Type"))
			require.Equal(t, tc.ctype, res.Header.Get("Content-Type"), "%d %q", res.StatusCode, res.Header.Get("Content-Type"))
			csp := res.Header.Get("Content-Security-Policy")
			assert.Contains(t, csp, "script-src 'self' 'wasm-unsafe-eval'", "CSP")
			assert.Contains(t, csp, "frame-ancestors 'none'", "CSP")
			assert.NotContains(t, csp, "unsafe-inline", "CSP")
			require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), "headers %v", res.Header)
			require.Equal(t, "no-cache", res.Header.Get("Cache-Control"), "headers %v", res.Header)
			etag := res.Header.Get("ETag")
			require.Regexp(t, `^"[^"]{8,}"$`, etag, "a strong ETag")
			res, b2 := h.do("GET", tc.path, "", nil, map[string]string{"If-None-Match": etag})
			require.Equal(t, http.StatusNotModified, res.StatusCode, "revalidation: %d, %d bytes", res.StatusCode, len(b2))
			require.Empty(t, b2, "revalidation: %d, %d bytes", res.StatusCode, len(b2))
			require.Equal(t, etag, res.Header.Get("ETag"), "revalidation: %d, %d bytes", res.StatusCode, len(b2))
			res, _ = h.do("GET", tc.path, "", nil, map[string]string{"If-None-Match": `"stale"`})
			require.EqualValues(t, 200, res.StatusCode, "stale ETag: %d", res.StatusCode)
			if tc.path == "/favicon.ico" {
				require.True(t, bytes.HasPrefix(body, []byte{0, 0, 1, 0}), "the default favicon is an ICO")
			}
		})
	}
	// A changed file gets a new ETag.
	res, _ := h.do("GET", "/payroc.js", "", nil, nil)
	old := res.Header.Get("ETag")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "payroc.js"), []byte(`export async function load() { return 2 }`), 0o644))
	res, b := h.do("GET", "/payroc.js", "", nil, map[string]string{"If-None-Match": old})
	require.EqualValues(t, 200, res.StatusCode, "after a change: %d %q", res.StatusCode, res.Header.Get("ETag"))
	require.NotEqual(t, old, res.Header.Get("ETag"), "after a change: %d %q", res.StatusCode, res.Header.Get("ETag"))
	require.Contains(t, string(b), "return 2", "after a change: %d %q", res.StatusCode, res.Header.Get("ETag"))
}

func TestProxyStaticWasmByAcceptEncoding(t *testing.T) {
	dir, wasm := webDir(t)
	h := newHarness(t, withWeb(dir))
	etags := map[string]string{}
	for _, tc := range []struct{ accept, encoding string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"br;q=0, gzip;q=0.8", "gzip"},
		{"*", "br"},
		{"identity", ""},
		{"", ""},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			tr := &http.Transport{DisableCompression: true}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", h.url+"/payroc.wasm", nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			res, err := (&http.Client{Transport: tr}).Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			require.Equal(t, tc.encoding, res.Header.Get("Content-Encoding"))
			require.Equal(t, "application/wasm", res.Header.Get("Content-Type"))
			require.True(t, varies(res.Header, "Accept-Encoding"), "Vary: Accept-Encoding in %v", res.Header)
			var got []byte
			switch tc.encoding {
			case "br":
				got, err = io.ReadAll(brotli.NewReader(bytes.NewReader(raw)))
			case "gzip":
				zr, zerr := gzip.NewReader(bytes.NewReader(raw))
				if zerr != nil {
					t.Fatal(zerr)
				}
				got, err = io.ReadAll(zr)
			default:
				got = raw
			}
			require.NoError(t, err, "decoded body differs (%v)", err)
			require.True(t, bytes.Equal(got, wasm), "decoded body differs (%v)", err)
			if tc.encoding != "" {
				require.Less(t, len(raw), len(wasm)/4, "%s body against the raw wasm", tc.encoding)
			}
			require.NotEmpty(t, res.Header.Get("Content-Length"), "no Content-Length")
			etags[tc.encoding] = res.Header.Get("ETag")
		})
	}
	require.NotEqual(t, etags["gzip"], etags["br"], "one ETag for different representations: %v", etags)
	require.NotEqual(t, etags[""], etags["br"], "one ETag for different representations: %v", etags)
	require.NotEqual(t, etags[""], etags["gzip"], "one ETag for different representations: %v", etags)
	// A .br older than the wasm (a rebuild without precompress) is never served.
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "payroc.wasm.br"), old, old))
	res, _ := h.do("GET", "/payroc.wasm", "", nil, map[string]string{"Accept-Encoding": "br"})
	require.NotEqual(t, "br", res.Header.Get("Content-Encoding"), "a stale payroc.wasm.br was served")
}

func TestProxyStaticServesOnlyWebFiles(t *testing.T) {
	dir, _ := webDir(t)
	h := newHarness(t, withWeb(dir))
	for _, p := range []string{"/.env", "/notes.md", "/sub/.hidden.js", "/sub/", "/sub", "/../go.mod", "/%2e%2e/go.mod",
		"/sub/../.env", "/payroc.wasm.br", "/index.html/", "//etc/passwd.txt", "/nope.js"} {
		res, b := h.do("GET", p, "", nil, nil)
		assert.EqualValues(t, 404, res.StatusCode, "%s: %d", p, res.StatusCode)
		assert.NotContains(t, string(b), testAPIKey, "%s served a secret", p)
	}
	res, _ := h.do("GET", "/sub/deeper/x.txt", "", nil, nil)
	assert.EqualValues(t, 200, res.StatusCode, "a nested file: %d", res.StatusCode)
	res, b := h.do("POST", "/payroc.js", "", []byte("{}"), nil)
	problemOf(t, res, b, 405, "method-not-allowed")
}

func TestProxyStaticMissingBuildIsSaidOnThePage(t *testing.T) {
	dir, _ := webDir(t)
	for _, n := range []string{"payroc.wasm", "payroc.wasm.br", "payroc.wasm.gz", "wasm_exec.js"} {
		os.Remove(filepath.Join(dir, n))
	}
	h := newHarness(t, withWeb(dir))
	warnings := strings.Join(h.proxy.Warnings(), "\n")
	require.Contains(t, warnings, "payroc.wasm is missing", "warnings %q", warnings)
	require.Contains(t, warnings, "make wasm", "warnings %q", warnings)
	res, b := h.do("GET", "/", "", nil, nil)
	page := string(b)
	require.Equal(t, 200, res.StatusCode)
	assert.Contains(t, page, `data-testid="build-warning"`)
	assert.Contains(t, page, "make wasm")
	assert.Contains(t, page, "<h1>Refunds</h1>", "the page itself is still served")
	assert.Greater(t, strings.Index(page, "build-warning"), strings.Index(page, "<body"), "the warning is inside <body>")
	res, b = h.do("GET", "/payroc.wasm", "", nil, nil)
	p := problemOf(t, res, b, 404, "not-found")
	require.Contains(t, p["detail"].(string), "make wasm", "%s", b)

	// No page at all: a placeholder that says what is missing, never a blank page.
	empty := newHarness(t)
	res, b = empty.do("GET", "/", "", nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "placeholder: %d %s", res.StatusCode, b)
	require.Contains(t, string(b), "index.html", "placeholder: %d %s", res.StatusCode, b)
	require.NotEmpty(t, res.Header.Get("Content-Security-Policy"), "placeholder: %d %s", res.StatusCode, b)
}

func TestProxyCrossOriginOnlyForAllowedOrigins(t *testing.T) {
	const allowed = "https://till.example"
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.AllowOrigins = []string{allowed} })
	tok := h.devToken()
	path := "/v1/devices/1850010868/refund-instructions"
	res, _ := h.do("OPTIONS", path, "", nil, map[string]string{"Origin": allowed, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
	require.Equal(t, 204, res.StatusCode, "preflight")
	assert.Equal(t, allowed, res.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, res.Header.Get("Access-Control-Allow-Methods"), "POST")
	assert.Contains(t, res.Header.Get("Access-Control-Allow-Headers"), "Idempotency-Key")
	res, b := h.do("POST", path, tok, refundBody("1850010868", 4999), map[string]string{"Origin": allowed,
		"Sec-Fetch-Site": "cross-site", "Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"})
	require.EqualValues(t, 202, res.StatusCode, "cross-origin submit from an allowed origin: %d %s", res.StatusCode, b)
	require.Equal(t, allowed, res.Header.Get("Access-Control-Allow-Origin"), "cross-origin submit from an allowed origin: %d %s", res.StatusCode, b)
	res, _ = h.do("GET", "/lane", tok, nil, map[string]string{"Origin": "https://other.example"})
	require.Empty(t, res.Header.Get("Access-Control-Allow-Origin"), "CORS header for an origin not allowed")
	res, b = h.do("POST", path, tok, refundBody("1850010869", 4999), map[string]string{"Origin": "https://other.example",
		"Sec-Fetch-Site": "cross-site", "Idempotency-Key": "9e03978e-40d5-43e8-bc93-6894a57f9324"})
	problemOf(t, res, b, 403, "forbidden")
}
