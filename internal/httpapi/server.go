package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"time"
)

// Bearer returns the token of an "Authorization: Bearer <token>" header (the scheme in any case). present is
// false when there is no Authorization header at all; ok is false when there is one but it is not a bearer,
// or when there is more than one: which credential counts would depend on who reads the request.
func Bearer(r *http.Request) (tok string, present, ok bool) {
	vals := r.Header["Authorization"]
	if len(vals) == 0 || len(vals) == 1 && vals[0] == "" {
		return "", false, false
	}
	if len(vals) > 1 {
		return "", true, false
	}
	h := vals[0]
	scheme, rest, found := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	if !found || !strings.EqualFold(scheme, "Bearer") || rest == "" {
		return "", true, false
	}
	return rest, true, true
}

// SecretEqual compares a presented secret with the expected one in constant time; hashing both first hides
// the expected secret's length as well. An empty presented secret never matches.
func SecretEqual(got, want string) bool {
	if got == "" {
		return false
	}
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// StatusWriter remembers the status written, for logs and metrics. Unwrap keeps http.ResponseController
// (write deadlines of long-polls, hijacking) working through it.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records code and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the underlying writer.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// UpstreamTransport is the transport of the proxy's client to Payroc: pool sizes and timeouts sized for many
// lanes' long-polls on a few connections (HTTP/2 when the gateway offers it). The bench's bare ReverseProxy
// uses the same, so that a comparison is about what the proxy does, not how many connections it keeps.
func UpstreamTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          200,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
