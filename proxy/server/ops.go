package server

import (
	"context"
	"net/http"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// serveHealth is liveness: the process answers, and says its version.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if !onlyMethod(w, r, http.MethodGet) {
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

// serveReady is readiness: the shared state answers, a Payroc token can be had (cached or minted now), and
// the proxy is not draining. A load balancer then steers away from an instance that has lost its state.
// While identity is failing the token cache backs off, so a probe never hammers identity.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if !onlyMethod(w, r, http.MethodGet) {
		return
	}
	if s.draining.Load() {
		writeProblem(w, &payroc.Error{Status: http.StatusServiceUnavailable, Code: "shutting-down", Type: ProblemTypeBase + "#shutting-down",
			Title: "Shutting down", Detail: "The proxy is shutting down", RetryAfter: time.Second})
		return
	}
	pctx, pcancel := context.WithTimeout(r.Context(), 2*time.Second)
	err := s.state.Ping(pctx)
	pcancel()
	if err != nil {
		s.stateFailed(err)
		writeProblem(w, stateUnavailable())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if _, err := s.tokens.Token(ctx); err != nil {
		writeProblem(w, retryAfter(problem(payroc.CodeIdentityUnavailable, "No Payroc access token can be had"), time.Second))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "version": s.cfg.Version})
}
