package server

import (
	"errors"
	"net/http"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/httpapi"
	"github.com/posrefund/cloud/proxy/lane"
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
	if perr := s.checkRevoked(w, r, c); perr != nil {
		return nil, perr
	}
	if sw, ok := w.(*statusWriter); ok {
		sw.tokenID = c.ID
	}
	return c, nil
}

// admitLane authenticates and rate-limits a lane request, writing the refusal when there is one.
func (s *Server) admitLane(w http.ResponseWriter, r *http.Request) (*lane.Claims, bool) {
	c, perr := s.authenticate(w, r)
	if perr != nil {
		writeProblem(w, perr)
		return nil, false
	}
	if ok, wait := s.limits.allow(c.ID, s.now()); !ok {
		writeProblem(w, retryAfter(problem(payroc.CodeRateLimited, "Too many requests for this lane token: slow down"), wait))
		return nil, false
	}
	return c, true
}

// adminAuthorized compares the admin bearer in constant time (hashing first, so even the length leaks nothing).
func (s *Server) adminAuthorized(r *http.Request) bool {
	tok, _, ok := httpapi.Bearer(r)
	return ok && httpapi.SecretEqual(tok, s.cfg.AdminKey)
}
