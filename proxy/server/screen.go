package server

import (
	"net"
	"net/http"
	"strings"

	"github.com/posrefund/cloud/payroc"
)

// screen refuses requests that different parsers could read differently, before any route sees them; nil
// lets r through.
//
//   - HTTP/1 with Transfer-Encoding: no browser or payroc client sends a chunked request body, and one that
//     also has Content-Length (or a "Chunked" or space-padded spelling another hop may not recognise) is how
//     requests are smuggled past a front proxy. It is refused and its connection closed (RFC 9112 §6.1):
//     what follows on the wire is never read as another request.
//   - In production mode (not Config.Simulate), a Host the proxy is not configured to answer (see hostAllowed)
//     is 421 misdirected-request: a forged Host must not reach link.href or the origin checks. The simulator
//     stays lenient, so a demo answers on any name.
func (s *Server) screen(w http.ResponseWriter, r *http.Request) *payroc.Error {
	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		w.Header().Set("Connection", "close")
		return badRequest("Transfer-Encoding is not accepted in a request: send the body with Content-Length")
	}
	if !s.cfg.Simulate && !opsPath(r.URL.Path) && !s.hostAllowed(r) {
		return problem(payroc.CodeMisdirectedRequest, "This proxy does not answer for this host")
	}
	return nil
}

// opsPath: probes and scrapers (a kubelet, a load balancer's health check, Prometheus) address an instance by
// whatever name they know it by, and these answers never use Host.
func opsPath(p string) bool { return p == "/healthz" || p == "/readyz" || p == "/metrics" }

// hostAllowed reports whether r's Host is one the proxy was configured for: the host of Config.PublicURL,
// Config.Addr, or the address the connection itself reached (so a client dialling the listener by its
// address is answered, and a made-up name is not). Names compare without case, and a default port may be
// left out.
func (s *Server) hostAllowed(r *http.Request) bool {
	host := normalHost(r.Host)
	if host == "" {
		return false
	}
	if host == s.publicHost || host == s.addrHost {
		return true
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && host == normalHost(a.String()) {
		return true
	}
	return false
}

// normalHost lower-cases a host[:port] and drops a default port (80 or 443).
func normalHost(h string) string {
	h = strings.ToLower(h)
	if hh, port, err := net.SplitHostPort(h); err == nil && (port == "80" || port == "443") {
		if strings.Contains(hh, ":") {
			return "[" + hh + "]"
		}
		return hh
	}
	return h
}
