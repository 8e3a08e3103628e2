// Package httpapi holds the server-side pieces the simulator and the proxy share: matching the four refund
// routes (so both answer the same paths with the same 404/405 rules) and writing problem documents.
package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/posrefund/cloud/payroc"
)

// Route names what a request is for: one of the four refund endpoints, identity, or anything else. The
// value is the label in metrics, logs, the simulator's counters and its test controls.
type Route string

// The routes.
const (
	RouteSubmit            Route = "submit"             // POST   /devices/{serialNumber}/refund-instructions
	RouteGetInstruction    Route = "get_instruction"    // GET    /refund-instructions/{refundInstructionId}
	RouteCancelInstruction Route = "cancel_instruction" // DELETE /refund-instructions/{refundInstructionId}
	RouteGetRefund         Route = "get_refund"         // GET    /refunds/{refundId}
	RouteIdentity          Route = "identity"           // POST   /authorize (identity, not the API)
	// RouteOther is any other path (a 404) or method (a 405).
	RouteOther Route = "other"
	// RouteNone is what Match answers for a request outside the four refund routes.
	RouteNone = RouteOther
)

// String is the route's metric and log label.
func (r Route) String() string { return string(r) }

// Match finds the route for method and an API path relative to the API base (no "/v1" prefix; see
// TrimV1). It returns the route and its one path parameter (unescaped). A path that matches a route's shape
// with another method gives RouteNone and allow set to the method that path accepts (a 405); an unknown path
// gives RouteNone and allow "" (a 404).
func Match(method, path string) (r Route, param string, allow string) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	unesc := func(s string) (string, bool) {
		u, err := url.PathUnescape(s)
		return u, err == nil && u != ""
	}
	switch {
	case len(seg) == 3 && seg[0] == "devices" && seg[2] == "refund-instructions":
		p, ok := unesc(seg[1])
		if !ok {
			return RouteNone, "", ""
		}
		if method == http.MethodPost {
			return RouteSubmit, p, ""
		}
		return RouteNone, p, http.MethodPost
	case len(seg) == 2 && seg[0] == "refund-instructions":
		p, ok := unesc(seg[1])
		if !ok {
			return RouteNone, "", ""
		}
		switch method {
		case http.MethodGet, http.MethodHead:
			return RouteGetInstruction, p, ""
		case http.MethodDelete:
			return RouteCancelInstruction, p, ""
		}
		return RouteNone, p, "GET, DELETE"
	case len(seg) == 2 && seg[0] == "refunds":
		p, ok := unesc(seg[1])
		if !ok {
			return RouteNone, "", ""
		}
		if method == http.MethodGet || method == http.MethodHead {
			return RouteGetRefund, p, ""
		}
		return RouteNone, p, http.MethodGet
	}
	return RouteNone, "", ""
}

// TrimV1 strips a leading "/v1" from path; ok is false when path had none.
func TrimV1(path string) (rest string, ok bool) {
	if path == "/v1" {
		return "/", true
	}
	if strings.HasPrefix(path, "/v1/") {
		return path[3:], true
	}
	return path, false
}

// WriteJSON writes v as an application/json answer with status, never cached. A value that cannot be
// encoded (a bug) is a 500 problem instead.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteProblem(w, Problem("", payroc.CodeInternalError, "The answer could not be encoded"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteProblem writes e as application/problem+json with e.Status (500 when unset) and a Retry-After header
// when e.RetryAfter is set. A local error code is never written with status 0.
func WriteProblem(w http.ResponseWriter, e *payroc.Error) {
	if e.Status == 0 {
		e.Status = http.StatusInternalServerError
	}
	b, err := json.Marshal(e)
	if err != nil {
		b = []byte(`{"type":"about:blank","title":"Internal error","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	if e.RetryAfter > 0 {
		secs := int((e.RetryAfter + 999_999_999) / 1_000_000_000)
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// Problem builds an *payroc.Error for a server to write: code's usual status and title, the given detail,
// and type under base ("" means payroc.ProblemTypeBase) ending in #code.
func Problem(base, code, detail string, fields ...payroc.FieldError) *payroc.Error {
	e := payroc.NewError(code, detail, fields...)
	if base == "" {
		base = payroc.ProblemTypeBase
	}
	e.Type = base + "#" + code
	return e
}
