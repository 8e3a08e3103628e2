package server

import (
	"net/http"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// ProblemTypeBase is the base of the proxy's own problem types: each is ProblemTypeBase + "#" + slug
// (lane-token-expired, device-busy…), documented in the README under headings of those names. Problems that
// are Payroc's own (idempotency-key-missing) and problems Payroc sent keep Payroc's base.
const ProblemTypeBase = "https://github.com/posrefund/cloud/blob/main/README.md"

// problem builds one of the proxy's own problems.
func problem(code, detail string, fields ...payroc.FieldError) *payroc.Error {
	return httpapi.Problem(ProblemTypeBase, code, detail, fields...)
}

func writeProblem(w http.ResponseWriter, e *payroc.Error) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	httpapi.WriteProblem(w, e)
}

func notFound() *payroc.Error {
	return problem(payroc.CodeNotFound, "No such resource here")
}

func methodNotAllowed(w http.ResponseWriter, allow string) *payroc.Error {
	w.Header().Set("Allow", allow)
	return problem(payroc.CodeMethodNotAllowed, "This path accepts "+allow)
}

func badRequest(detail string, fields ...payroc.FieldError) *payroc.Error {
	return problem(payroc.CodeBadRequest, detail, fields...)
}

func retryAfter(e *payroc.Error, d time.Duration) *payroc.Error {
	e.RetryAfter = d
	return e
}

// stateUnavailable is the 503 for a store that cannot be reached: nothing was forwarded.
func stateUnavailable() *payroc.Error {
	return retryAfter(problem(payroc.CodeStateUnavailable,
		"The proxy's shared state cannot be reached; nothing was sent to Payroc. Try again shortly"), time.Second)
}

// crossOriginProblem is the 403 for a request from a page of an origin neither the proxy's own nor allowed.
func crossOriginProblem() *payroc.Error {
	return problem(payroc.CodeForbidden, "Cross-origin request refused: this origin is not allowed")
}
