package server

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/lane"
)

// serveRevoke answers DELETE /admin/lane-tokens/{tokenId} for the merchant's back office: the token is
// refused from now until it would have expired. The proxy does not keep the tokens it issued (a token is
// self-contained, and `proxy token` issues them offline), so it cannot look the expiry up: the revocation
// lasts lane.MaxTTL, the longest life any lane token has, which covers it. Unknown and already revoked ids
// answer 204 too: the back office's wish is granted either way, and the answer says nothing about which
// ids exist.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.admin(w, r, http.MethodDelete) {
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/admin/lane-tokens/")
	if err := lane.CheckTokenID(id); err != nil {
		writeProblem(w, badRequest("The path must be /admin/lane-tokens/{tokenId}",
			payroc.FieldError{Parameter: "tokenId", Message: err.Error()}))
		return
	}
	until := s.now().Add(lane.MaxTTL)
	if err := s.state.Revoke(r.Context(), id, until); err != nil {
		s.log.ErrorContext(r.Context(), "revocation not recorded", "laneTokenId", id, "error", err.Error())
		writeProblem(w, retryAfter(problem(payroc.CodeStateUnavailable, "The revocation could not be recorded: try again"), time.Second))
		return
	}
	s.metrics.revoked.Inc()
	s.log.InfoContext(r.Context(), "audit", slog.String("event", "lane-token-revoked"), slog.String("laneTokenId", id),
		slog.String("until", until.Format(time.RFC3339)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
