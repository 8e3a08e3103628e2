package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// forward sends one call upstream through the payroc client: the minted bearer, one re-mint and replay on a
// 401, no retries of its own (the browser's client retries, with the same Idempotency-Key). net/http's
// transport may itself resend a submit once when a reused connection breaks before any answer: it does so
// only because the request carries an Idempotency-Key, which it keeps. Only the headers given go: the
// caller builds them from the allowlist (Content-Type, Accept, Idempotency-Key).
//
// The answer may come later than an ordinary response's write timeout allows (a long-poll, a slow submit),
// so w's write deadline is moved past ctx's deadline first.
func (s *Server) forward(ctx context.Context, w http.ResponseWriter, route httpapi.Route, method, path string, h payroc.Header, body []byte) (*payroc.Response, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = http.NewResponseController(w).SetWriteDeadline(dl.Add(15 * time.Second))
	}
	start := time.Now()
	res, err := s.client.Do(ctx, method, path, h, body)
	s.metrics.observeUpstream(route, time.Since(start))
	return res, err
}

// upstreamProblem turns a failed upstream call into the proxy's answer; nil when the browser has left and
// there is no one to answer.
func (s *Server) upstreamProblem(r *http.Request, err error) *payroc.Error {
	switch {
	case s.draining.Load() && errors.Is(err, context.Canceled):
		return retryAfter(problem(payroc.CodeUpstreamTimeout, "The proxy is restarting: ask again"), time.Second)
	case errors.Is(err, context.DeadlineExceeded):
		return problem(payroc.CodeUpstreamTimeout, "Payroc did not answer in time")
	case errors.Is(err, context.Canceled) || r.Context().Err() != nil:
		return nil
	}
	e := payroc.AsError(err)
	if e.Code == payroc.CodeIdentityUnavailable {
		return retryAfter(problem(payroc.CodeIdentityUnavailable, "No Payroc access token could be had: the identity service is unavailable or refused the API key"), time.Second)
	}
	s.log.Warn("upstream call failed", "method", methodLabel(r.Method), "code", e.Code)
	return problem(payroc.CodeUpstreamError, "Payroc could not be reached")
}

// detachedProblem is upstreamProblem for calls that run on after the browser left (submit, cancel): there is
// always an answer, for the audit line if for no one else.
func (s *Server) detachedProblem(r *http.Request, err error) *payroc.Error {
	if e := s.upstreamProblem(r, err); e != nil {
		return e
	}
	return problem(payroc.CodeUpstreamError, "Payroc could not be reached")
}

// writeUpstream passes an upstream answer through: status and body, with link.href rewritten to the proxy's
// origin in JSON bodies. Only Content-Type and Retry-After are
// kept of its headers. A 401 (Payroc refusing the proxy's own bearer even after a fresh one) becomes a 502: the
// browser's lane token is not at fault and must not be renewed for it. route names the call in that
// refusal's log line: the caller knows it, and the one line an operator needs to find the cause must say it.
//
// Over HTTP/1 an answer with a body goes out with its Content-Length (net/http would add the same one at the
// end) and is flushed at once, so the browser has it while the access line and metrics are still being
// written.
func (s *Server) writeUpstream(w http.ResponseWriter, r *http.Request, route httpapi.Route, res *payroc.Response) {
	if res.StatusCode == http.StatusUnauthorized {
		s.log.Error("Payroc refused the proxy's bearer token", "method", methodLabel(r.Method), "route", route.String())
		writeProblem(w, problem(payroc.CodeUpstreamError, "Payroc refused the proxy's credentials"))
		return
	}
	body := res.Body
	ct := res.Header.Get("Content-Type")
	if strings.Contains(ct, "json") && len(body) > 0 {
		origin := s.origin(r)
		f := func(href string) (string, bool) { return s.links.rewrite(href, origin) }
		body = rewriteLinkHref(body, f)
	}
	h := w.Header()
	switch ct {
	case "":
	case "application/json":
		h["Content-Type"] = valJSON
	default:
		h.Set("Content-Type", ct)
	}
	if ra := res.Header.Get("Retry-After"); ra != "" {
		h.Set("Retry-After", ra)
	}
	h["Cache-Control"] = valNoStore
	flush := r.ProtoMajor == 1 && r.Method != http.MethodHead && len(body) > 0 && bodyAllowed(res.StatusCode)
	if flush {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(res.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	if flush {
		_ = http.NewResponseController(w).Flush()
	}
}

// bodyAllowed reports whether a response with status may carry a body (not 1xx, 204 or 304).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
