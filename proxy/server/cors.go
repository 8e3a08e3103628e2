package server

import (
	"net/http"

	"github.com/posrefund/cloud/payroc"
)

// preflight handles CORS: same-origin needs nothing; an -allow-origin origin gets the CORS headers on every
// answer and its preflights answered; any other origin's preflight is refused (the browser then never sends
// the request). It reports whether it answered the request itself.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	allowed := s.allowOrigins[origin]
	h := w.Header()
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
	}
	h.Add("Vary", "Origin")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	if !allowed {
		writeProblem(w, problem(payroc.CodeForbidden, "Cross-origin requests from this origin are not allowed"))
		return true
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Idempotency-Key")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// moduleFiles are the static files another origin's app may load straight from the proxy
// (import('https://proxy.example/payroc.js')): a module script and what it fetches are CORS requests.
var moduleFiles = map[string]bool{"/payroc.js": true, "/payroc.d.ts": true, "/payroc.wasm": true, "/wasm_exec.js": true}

// staticCORS sets the cross-origin headers of a static file: the module files answer an -allow-origin
// origin with Access-Control-Allow-Origin and a Cross-Origin-Resource-Policy that lets it embed them (also
// from a page isolated with COEP); every other answer is same-origin only, so no other site can read or
// embed the proxy's files. Vary: Origin keeps caches from handing one origin's answer to another.
func (s *Server) staticCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if !moduleFiles[r.URL.Path] {
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		return
	}
	h.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); origin != "" && s.allowOrigins[origin] {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		return
	}
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// crossOriginRefused runs cross-origin protection on r as if it were a POST, so a GET of /lane or of the API
// from a page of an origin not allowed is refused (403) like a write, rather than answered without CORS
// headers. A same-origin fetch (Sec-Fetch-Site same-origin) and a non-browser client (neither header) pass
// without a copy of the request.
func (s *Server) crossOriginRefused(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return s.cop.Check(r) != nil
	}
	site := r.Header.Get("Sec-Fetch-Site")
	if site == "same-origin" || site == "none" || site == "" && r.Header.Get("Origin") == "" {
		return false
	}
	probe := *r
	probe.Method = http.MethodPost
	return s.cop.Check(&probe) != nil
}
