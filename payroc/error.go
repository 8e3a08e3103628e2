package payroc

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Error codes. Payroc's problem documents name their kind in the fragment of "type"
// (https://docs.payroc.com/api/errors#<code>); the proxy's own problems do the same; local failures that never
// reached a server use the last group. The code is the stable thing to branch on.
const (
	// Payroc's.
	CodeBadRequest            = "bad-request"
	CodeIdempotencyKeyMissing = "idempotency-key-missing"
	CodeNotAuthorized         = "not-authorized"
	CodeForbidden             = "forbidden"
	CodeNotFound              = "not-found"
	CodeNotAcceptable         = "not-acceptable"
	CodeCannotBeCanceled      = "cannot-be-canceled"
	CodeIdempotencyKeyInUse   = "idempotency-key-in-use"
	CodeUnsupportedMediaType  = "unsupported-media-type"
	CodeAPIError              = "api-error"

	// The proxy's.
	CodeLaneTokenMissing    = "lane-token-missing"
	CodeLaneTokenInvalid    = "lane-token-invalid"
	CodeLaneTokenExpired    = "lane-token-expired"
	CodeLaneTokenRevoked    = "lane-token-revoked"
	CodeOutOfScope          = "out-of-scope"
	CodeMethodNotAllowed    = "method-not-allowed"
	CodeDeviceBusy          = "device-busy"
	CodePayloadTooLarge     = "payload-too-large"
	CodeRateLimited         = "rate-limited"
	CodeUpstreamError       = "upstream-error"
	CodeIdentityUnavailable = "identity-unavailable"
	CodeUpstreamTimeout     = "upstream-timeout"
	CodeStateUnavailable    = "state-unavailable"
	CodeRequestTimeout      = "request-timeout"     // the body did not arrive within the body timeout
	CodeMisdirectedRequest  = "misdirected-request" // a Host the proxy is not configured to answer

	// Local: nothing reached a server, or no answer came back.
	CodeInvalidRequest = "invalid-request" // validation failed before sending; Errors names the fields
	CodeNetworkError   = "network-error"   // no HTTP answer (connection refused, reset, DNS, CORS…)
	CodeModuleExited   = "module-exited"   // the wasm Go program is gone
	CodeInternalError  = "internal-error"  // a bug or an unreadable answer
	CodeServerError    = "server-error"    // a non-2xx answer without a problem document
	// CodeStorageUnavailable: the refund could not be recorded in the browser's storage, so it was not sent.
	CodeStorageUnavailable = "storage-unavailable"
	// CodeTokenUnavailable: the page's getToken failed (threw, rejected with something other than a
	// PayrocError, or gave no token). Retryable.
	CodeTokenUnavailable = "token-unavailable"
	// CodeModuleUnavailable: payroc.wasm or wasm_exec.js could not be fetched (payroc.js's load()).
	CodeModuleUnavailable = "module-unavailable"
)

// ProblemTypeBase is the base of Payroc's problem "type" URIs.
const ProblemTypeBase = "https://docs.payroc.com/api/errors"

// codeStatus maps codes to the HTTP status that carries them, both ways (see StatusForCode, CodeForStatus).
var codeStatus = map[string]int{
	CodeBadRequest: 400, CodeIdempotencyKeyMissing: 400, CodeNotAuthorized: 401, CodeForbidden: 403,
	CodeNotFound: 404, CodeNotAcceptable: 406, CodeCannotBeCanceled: 409, CodeIdempotencyKeyInUse: 409,
	CodeUnsupportedMediaType: 415, CodeAPIError: 500,
	CodeLaneTokenMissing: 401, CodeLaneTokenInvalid: 401, CodeLaneTokenExpired: 401, CodeLaneTokenRevoked: 401,
	CodeOutOfScope: 403, CodeMethodNotAllowed: 405, CodeDeviceBusy: 409, CodePayloadTooLarge: 413, CodeRateLimited: 429,
	CodeUpstreamError: 502, CodeIdentityUnavailable: 503, CodeUpstreamTimeout: 504, CodeStateUnavailable: 503,
	CodeRequestTimeout: 408, CodeMisdirectedRequest: 421,
	CodeInvalidRequest: 0, CodeNetworkError: 0, CodeModuleExited: 0, CodeInternalError: 0,
	CodeStorageUnavailable: 0, CodeTokenUnavailable: 0, CodeModuleUnavailable: 0,
}

var statusCode = map[int]string{
	400: CodeBadRequest, 401: CodeNotAuthorized, 403: CodeForbidden, 404: CodeNotFound,
	405: CodeMethodNotAllowed, 406: CodeNotAcceptable, 409: "conflict", 413: CodePayloadTooLarge,
	415: CodeUnsupportedMediaType, 429: CodeRateLimited, 500: CodeAPIError, 502: CodeUpstreamError,
	503: "service-unavailable", 504: CodeUpstreamTimeout,
}

var codeTitle = map[string]string{
	CodeBadRequest: "Bad request", CodeIdempotencyKeyMissing: "Idempotency-Key header missing",
	CodeNotAuthorized: "Not Authorized", CodeForbidden: "Forbidden", CodeNotFound: "Not found",
	CodeNotAcceptable: "Not acceptable", CodeCannotBeCanceled: "Cannot be canceled",
	CodeIdempotencyKeyInUse: "Idempotency-Key in use", CodeUnsupportedMediaType: "Unsupported media type",
	CodeAPIError:         "Api error",
	CodeLaneTokenMissing: "Lane token missing", CodeLaneTokenInvalid: "Lane token invalid",
	CodeLaneTokenExpired: "Lane token expired", CodeLaneTokenRevoked: "Lane token revoked",
	CodeOutOfScope: "Out of scope", CodeMethodNotAllowed: "Method not allowed", CodeDeviceBusy: "Device busy",
	CodePayloadTooLarge: "Payload too large", CodeRateLimited: "Rate limited",
	CodeUpstreamError: "Upstream error", CodeIdentityUnavailable: "Identity unavailable",
	CodeUpstreamTimeout: "Upstream timeout", CodeStateUnavailable: "State unavailable",
	CodeRequestTimeout: "Request timeout", CodeMisdirectedRequest: "Misdirected request", CodeInvalidRequest: "Invalid request",
	CodeNetworkError: "Network error", CodeModuleExited: "Module exited", CodeInternalError: "Internal error",
	CodeStorageUnavailable: "Storage unavailable", CodeTokenUnavailable: "Token unavailable",
	CodeModuleUnavailable: "Module unavailable",
}

// StatusForCode returns the HTTP status that carries code, or 0 for local codes and unknown ones.
func StatusForCode(code string) int { return codeStatus[code] }

// CodeForStatus returns the code for an HTTP status whose answer had no problem document (or no "type").
func CodeForStatus(status int) string {
	if c, ok := statusCode[status]; ok {
		return c
	}
	if status >= 500 {
		return CodeServerError
	}
	return "http-" + strconv.Itoa(status)
}

// TitleForCode returns the human title of a code ("Device busy"), or "" when unknown.
func TitleForCode(code string) string { return codeTitle[code] }

// FieldError names one invalid field (Payroc's errors[] item). Parameter is a JSON path such as
// "order.amount", or a header or path parameter name.
type FieldError struct {
	Parameter string `json:"parameter,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Message   string `json:"message,omitempty"`
}

// Error is every failure this package reports: a non-2xx answer (with its problem document) or a local one
// (Status 0). It marshals to the problem document, so a server can write it as is.
type Error struct {
	Status   int          // HTTP status; 0 when nothing came back or nothing was sent
	Code     string       // the problem type's slug, or a local code (CodeInvalidRequest…)
	Type     string       // the problem "type" URI as received or to be sent
	Title    string       //
	Detail   string       //
	Instance string       //
	Resource string       //
	Errors   []FieldError // the fields at fault
	Link     *Link        // e.g. the refund link of a 409 cannot-be-canceled
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Problem is the raw problem document as received, nil when none.
	Problem json.RawMessage
	// Err is the underlying cause of a local failure (a network error, a decode error).
	Err error
}

// NewError returns an Error for code with the usual status, title and type.
func NewError(code, detail string, fields ...FieldError) *Error {
	return &Error{Status: StatusForCode(code), Code: code, Title: TitleForCode(code), Detail: detail, Errors: fields}
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("payroc: ")
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteByte(' ')
	}
	b.WriteString(e.Code)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	} else if e.Title != "" {
		b.WriteString(": ")
		b.WriteString(e.Title)
	}
	for i, f := range e.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Parameter)
		if m := f.text(); m != "" {
			b.WriteString(": ")
			b.WriteString(m)
		}
		if i == len(e.Errors)-1 {
			b.WriteByte(')')
		}
	}
	if e.Err != nil && e.Status == 0 {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (f FieldError) text() string {
	if f.Message != "" {
		return f.Message
	}
	return f.Detail
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, &Error{Code: c}) match by code, and errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code != "" && t.Code == e.Code && (t.Status == 0 || t.Status == e.Status)
}

// Sentinels for errors.Is.
var (
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrCannotBeCanceled = &Error{Code: CodeCannotBeCanceled}
	ErrInvalidRequest   = &Error{Code: CodeInvalidRequest}
	ErrNetwork          = &Error{Code: CodeNetworkError}
)

// Retryable reports whether the same request may succeed if sent again (with the same Idempotency-Key for a
// submit): no answer at all, no lane token from getToken, 408, 429 and 5xx other than 501. Everything else
// needs a change first.
func (e *Error) Retryable() bool {
	switch {
	case e.Code == CodeNetworkError || e.Code == CodeTokenUnavailable:
		return true
	case e.Status == 408 || e.Status == 429:
		return true
	case e.Status >= 500 && e.Status != 501:
		return true
	}
	return false
}

// NothingCreated reports whether err, the answer to one request, proves that the request created nothing
// upstream, so that a submit's key may be forgotten and its device freed:
//
//   - a refusal, 4xx: the request was not acted on. Except 408 (the server gave up waiting, maybe midway)
//     and 409, which for a submit is Payroc's idempotency-key-in-use (an instruction under that key is
//     being made) — but the proxy's own 409 device-busy is answered before anything is forwarded;
//   - the proxy's 503 identity-unavailable: without a Payroc bearer it sent nothing.
//
// Anything else proves nothing: no answer at all, a 5xx (the request may have been passed on before the
// failure; the proxy's state-unavailable may come after Payroc made the instruction), a local error. The browser's pending records and the proxy's device guard both follow it.
func NothingCreated(err error) bool {
	e, ok := errors.AsType[*Error](err)
	switch {
	case !ok:
		return false
	case e.Code == CodeIdentityUnavailable && e.Status == 503:
		return true
	case e.Status < 400 || e.Status > 499 || e.Status == 408:
		return false
	case e.Status == 409:
		return e.Code == CodeDeviceBusy
	}
	return true
}

// problemDoc is the wire shape of a problem document.
type problemDoc struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail"`
	Instance string       `json:"instance,omitempty"`
	Resource string       `json:"resource,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	Link     *Link        `json:"link,omitempty"`
}

// MarshalJSON writes the problem document (RFC 7807, Payroc's members). A missing type is
// ProblemTypeBase#code, a missing title the code's title.
func (e *Error) MarshalJSON() ([]byte, error) {
	d := problemDoc{Type: e.Type, Title: e.Title, Status: e.Status, Detail: e.Detail, Instance: e.Instance,
		Resource: e.Resource, Errors: e.Errors, Link: e.Link}
	if d.Type == "" {
		d.Type = ProblemTypeBase + "#" + e.Code
	}
	if d.Title == "" {
		d.Title = TitleForCode(e.Code)
	}
	return json.Marshal(d)
}

// ParseProblem turns a non-2xx answer into an *Error. It never fails: a body that is not a problem document
// still gives an Error with the status, a code from the status, and the body's start as detail.
func ParseProblem(status int, header Header, body []byte) *Error {
	e := &Error{Status: status}
	var d problemDoc
	if len(body) > 0 && json.Unmarshal(body, &d) == nil && (d.Type != "" || d.Title != "" || d.Status != 0) {
		e.Problem = json.RawMessage(append([]byte(nil), body...))
		e.Type, e.Title, e.Detail = d.Type, d.Title, d.Detail
		e.Instance, e.Resource, e.Errors, e.Link = d.Instance, d.Resource, d.Errors, d.Link
		e.Code = codeFromType(d.Type)
	} else if len(body) > 0 {
		e.Detail = truncate(strings.TrimSpace(string(body)), 200)
	}
	if e.Code == "" {
		e.Code = CodeForStatus(status)
	}
	if e.Title == "" {
		e.Title = TitleForCode(e.Code)
	}
	e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	return e
}

// codeFromType takes the slug from a problem type URI: the fragment, else the last path segment.
func codeFromType(t string) string {
	if i := strings.LastIndexByte(t, '#'); i >= 0 {
		return t[i+1:]
	}
	t = strings.TrimRight(t, "/")
	if t == "" || t == "about:blank" {
		return ""
	}
	if i := strings.LastIndexByte(t, '/'); i >= 0 {
		return t[i+1:]
	}
	return t
}

// parseRetryAfter reads delay-seconds or an HTTP date. Unreadable or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// AsError returns err as an *Error (through errors.As), or wraps it as internal-error. A context's
// cancellation stays recognisable: errors.Is(AsError(err), context.Canceled) holds when it held for err.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternalError, Title: TitleForCode(CodeInternalError), Detail: err.Error(), Err: err}
}
