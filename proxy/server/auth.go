package server

import (
	"errors"
	"net/http"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/state"
)

// authenticate checks the lane token of r. On failure it returns the 401 to send (and says nothing about
// which key, if any, almost matched).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*lane.Claims, *payroc.Error) {
	tok, present, ok := httpapi.Bearer(r)
	if !present {
		w.Header().Set("WWW-Authenticate", `Bearer realm="payroc-proxy"`)
		return nil, problem(payroc.CodeLaneTokenMissing, "Send the lane token as Authorization: Bearer <token>")
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="payroc-proxy", error="invalid_token"`)
		return nil, problem(payroc.CodeLaneTokenInvalid, "The Authorization header must be Bearer <lane token>")
	}
	c, err := s.keys.Verify(tok)
	switch {
	case errors.Is(err, lane.ErrExpired):
		w.Header().Set("WWW-Authenticate", `Bearer realm="payroc-proxy", error="invalid_token"`)
		return nil, problem(payroc.CodeLaneTokenExpired, "The lane token has expired: get a new one")
	case err != nil:
		w.Header().Set("WWW-Authenticate", `Bearer realm="payroc-proxy", error="invalid_token"`)
		return nil, problem(payroc.CodeLaneTokenInvalid, "The lane token is not one this proxy issued")
	}
	if sw, ok := w.(*statusWriter); ok {
		sw.tokenID = c.ID
	}
	return c, nil
}

// admitLane authenticates a lane request and admits its token (not revoked, within its rate), writing the
// refusal when there is one. API routes admit with their first state call instead (one round trip).
func (s *Server) admitLane(w http.ResponseWriter, r *http.Request) (*lane.Claims, bool) {
	c, perr := s.authenticate(w, r)
	if perr != nil {
		writeProblem(w, perr)
		return nil, false
	}
	a, err := s.state.Admit(r.Context(), c.ID, s.now())
	if e := s.admission(w, a, err); e != nil {
		writeProblem(w, e)
		return nil, false
	}
	return c, true
}

// admission turns a store's verdict on a lane token into the problem to answer, or nil to go on: 503
// state-unavailable when the store failed (fail closed), 401 lane-token-revoked, 429 rate-limited.
func (s *Server) admission(w http.ResponseWriter, a state.Admission, err error) *payroc.Error {
	switch {
	case err != nil:
		s.stateFailed(err)
		return stateUnavailable()
	case a.Revoked:
		w.Header().Set("WWW-Authenticate", `Bearer realm="payroc-proxy", error="invalid_token"`)
		return problem(payroc.CodeLaneTokenRevoked, "This lane token has been revoked: get a new one")
	case a.Limited:
		return retryAfter(problem(payroc.CodeRateLimited, "Too many requests for this lane token: slow down"), a.RetryAfter)
	}
	return nil
}

// admin is the opening of every admin route: the method, same-origin (a browser on another site cannot use
// a back office's ambient access), then the admin key. It answers the refusal itself and reports whether
// the request may go on.
func (s *Server) admin(w http.ResponseWriter, r *http.Request, method string) bool {
	if !onlyMethod(w, r, method) {
		return false
	}
	if s.crossOriginRefused(r) {
		writeProblem(w, crossOriginProblem())
		return false
	}
	if !s.adminAuthorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="payroc-proxy-admin"`)
		writeProblem(w, problem(payroc.CodeNotAuthorized, "Send the admin key as Authorization: Bearer <key>"))
		return false
	}
	return true
}

// adminAuthorized compares the admin bearer in constant time (hashing first, so even the length leaks nothing).
func (s *Server) adminAuthorized(r *http.Request) bool {
	tok, _, ok := httpapi.Bearer(r)
	return ok && httpapi.SecretEqual(tok, s.cfg.AdminKey)
}
