package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// ContentSecurityPolicy is sent with every static file: scripts only from this origin (the wasm needs
// 'wasm-unsafe-eval' to compile, and nothing needs inline script or eval), no framing, no plugins.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// maxAssetBytes bounds one static file held in memory.
const maxAssetBytes = 64 << 20

// contentTypes are the static files served, by extension; nothing else in the web directory is served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".ts": "application/typescript; charset=utf-8",
	".svg": "image/svg+xml", ".ico": "image/x-icon", ".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp",
	".json": "application/json", ".webmanifest": "application/manifest+json", ".woff2": "font/woff2",
	".txt": "text/plain; charset=utf-8", ".map": "application/json",
}

// static serves the -web directory: fixed names, no-cache with a strong content-hash ETag (so a browser
// revalidates with a cheap 304 and never pairs an old payroc.js with a new payroc.wasm), precompressed .br/.gz
// siblings by Accept-Encoding, and the security headers. Files are read per change (size, mtime), so
// `make wasm` while the proxy runs is picked up.
type static struct {
	dir   string
	mu    sync.Mutex
	cache map[string]*asset
}

type asset struct {
	size int64
	mod  time.Time
	data []byte
	etag string
}

func newStatic(dir string) *static { return &static{dir: dir, cache: map[string]*asset{}} }

// check lists what is missing from the web directory, one sentence each.
func (st *static) check() []string {
	var out []string
	if fi, err := os.Stat(st.dir); err != nil || !fi.IsDir() {
		return []string{fmt.Sprintf("web directory %q not found: the page is not served (give -web DIR)", st.dir)}
	}
	if _, err := st.stat("payroc.wasm"); err != nil {
		out = append(out, path.Join(st.dir, "payroc.wasm")+" is missing: run `make wasm`; the page says so until then")
	} else {
		for _, enc := range []string{".br", ".gz"} {
			if st.variant("payroc.wasm", enc) == "" {
				out = append(out, path.Join(st.dir, "payroc.wasm"+enc)+" is missing or older than payroc.wasm: run `make wasm` to precompress it")
			}
		}
	}
	if _, err := st.stat("wasm_exec.js"); err != nil {
		out = append(out, path.Join(st.dir, "wasm_exec.js")+" is missing: run `make wasm`")
	}
	return out
}

func (st *static) stat(name string) (fs.FileInfo, error) {
	fi, err := os.Stat(path.Join(st.dir, name))
	if err == nil && !fi.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	return fi, err
}

// variant returns name+enc when that precompressed sibling exists and is not older than name.
func (st *static) variant(name, enc string) string {
	orig, err := st.stat(name)
	if err != nil {
		return ""
	}
	v, err := st.stat(name + enc)
	if err != nil || v.ModTime().Before(orig.ModTime()) {
		return ""
	}
	return name + enc
}

// load reads name (cached while its size and mtime stay the same) through an os.Root, so no path can leave
// the web directory.
func (st *static) load(name string) (*asset, error) {
	root, err := os.OpenRoot(st.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	if fi.Size() > maxAssetBytes {
		return nil, fmt.Errorf("%s is over %d bytes", name, maxAssetBytes)
	}
	st.mu.Lock()
	a := st.cache[name]
	st.mu.Unlock()
	if a != nil && a.size == fi.Size() && a.mod.Equal(fi.ModTime()) {
		return a, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, maxAssetBytes+1))
	if err != nil {
		return nil, err
	}
	a = newAsset(data)
	a.size, a.mod = fi.Size(), fi.ModTime()
	st.mu.Lock()
	st.cache[name] = a
	st.mu.Unlock()
	return a, nil
}

func newAsset(data []byte) *asset {
	sum := sha256.Sum256(data)
	return &asset{data: data, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
}

// fileName maps a URL path to a file in the web directory, or "" when it may not be served.
func fileName(p string) string {
	if p == "/" {
		return "index.html"
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "\\") || strings.Contains(p, "\x00") {
		return ""
	}
	name := p[1:]
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return "" // no dotfiles, no "..", no empty segments
		}
	}
	if path.Clean(name) != name {
		return ""
	}
	if _, ok := contentTypes[extOf(name)]; !ok {
		return ""
	}
	return name
}

func extOf(name string) string {
	if strings.HasSuffix(name, ".d.ts") {
		return ".ts"
	}
	return path.Ext(name)
}

// serve answers GET and HEAD of a web file: the precompressed sibling the client prefers, else the file,
// else a stand-in (placeholder page, default favicon) or a problem. http.ServeContent does the ETag
// revalidation (304), HEAD and ranges.
func (st *static) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	name := fileName(r.URL.Path)
	if name == "" {
		writeProblem(w, notFound())
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeProblem(w, methodNotAllowed(w, "GET, HEAD"))
		return
	}
	a, encoding, e := st.pick(h, name, r.Header.Get("Accept-Encoding"))
	if e != nil {
		writeProblem(w, e)
		return
	}
	h.Set("Content-Type", contentTypes[extOf(name)])
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}

// pick returns what to send for name: the preferred precompressed variant (noting Vary in h when there are
// any) or the file itself, a stand-in for a missing page or favicon, or the problem to answer.
func (st *static) pick(h http.Header, name, acceptEncoding string) (*asset, string, *payroc.Error) {
	if st.variant(name, ".br") != "" || st.variant(name, ".gz") != "" {
		h.Add("Vary", "Accept-Encoding")
		for _, enc := range preferredEncodings(acceptEncoding) {
			if v := st.variant(name, encExt[enc]); v != "" {
				if a, err := st.load(v); err == nil {
					return a, enc, nil
				}
			}
		}
	}
	a, err := st.load(name)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && name == "index.html":
		a = placeholderPage(st.dir)
	case errors.Is(err, fs.ErrNotExist) && name == "favicon.ico":
		return defaultFavicon, "", nil
	case errors.Is(err, fs.ErrNotExist) && name == "payroc.wasm":
		return nil, "", problem(payroc.CodeNotFound, "payroc.wasm is not built yet: run `make wasm` and reload")
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", notFound()
	default:
		return nil, "", problem(payroc.CodeNotFound, "This file cannot be served")
	}
	if name == "index.html" {
		if _, werr := st.stat("payroc.wasm"); werr != nil {
			a = withBanner(a, "payroc.wasm is not built: run `make wasm` in the project, then reload this page. Refunds cannot run until then.")
		}
	}
	return a, "", nil
}

var encExt = map[string]string{"br": ".br", "gzip": ".gz"}

// preferredEncodings reads Accept-Encoding and returns br and/or gzip in our order of preference, leaving out
// any the client refuses (q=0) or does not name (a "*" accepts both).
func preferredEncodings(ae string) []string {
	q := map[string]float64{}
	for _, part := range strings.Split(ae, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		v := 1.0
		if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
				v = f
			}
		}
		q[name] = v
	}
	var out []string
	for _, enc := range []string{"br", "gzip"} {
		v, ok := q[enc]
		if !ok {
			v, ok = q["*"]
		}
		if ok && v > 0 {
			out = append(out, enc)
		}
	}
	return out
}

var bodyTag = regexp.MustCompile(`(?i)<body[^>]*>`)

// withBanner puts a plain, script-free notice at the top of the page (after <body>), so a missing build shows
// as words on the page, never as a blank one.
func withBanner(a *asset, msg string) *asset {
	banner := []byte(`<p role="alert" data-testid="build-warning"><strong>` + html.EscapeString(msg) + `</strong></p>`)
	loc := bodyTag.FindIndex(a.data)
	var out []byte
	if loc == nil {
		out = append(append([]byte(nil), banner...), a.data...)
	} else {
		out = append(append(append([]byte(nil), a.data[:loc[1]]...), banner...), a.data[loc[1]:]...)
	}
	return newAsset(out)
}

// placeholderPage stands in for a missing index.html: words, no script.
func placeholderPage(dir string) *asset {
	var b bytes.Buffer
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Payroc refunds proxy</title>` +
		`<link rel="icon" href="/favicon.ico"></head><body><h1>Payroc refunds proxy</h1>`)
	b.WriteString(`<p>The proxy is running, but the POS page (index.html) is not in the web directory <code>` +
		html.EscapeString(dir) + `</code>. Start the proxy with <code>-web DIR</code> pointing at the project's <code>web</code> directory.</p>`)
	b.WriteString(`<p>The API is served under <code>/v1/</code>; health at <a href="/healthz">/healthz</a>.</p></body></html>`)
	return newAsset(b.Bytes())
}
