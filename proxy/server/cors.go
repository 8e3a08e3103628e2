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
