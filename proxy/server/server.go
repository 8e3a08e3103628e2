package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/state"
)

// Server is the proxy: an http.Handler for the whole site (API, lane tokens, operations endpoints and the
// static page). Build it with New; run it with Serve, ServeTLS or ListenAndServe for graceful shutdown, or
// mount it anywhere (httptest.NewServer(s)).
type Server struct {
	cfg    Config
	log    *slog.Logger
	keys   *lane.Keyring
	tokens *payroc.TokenCache
	client *payroc.Client
	// httpClient carries the upstream calls (Close drops its idle connections).
	httpClient *http.Client
	// state is Config.State: the device guard, lane ownership, rate limits and revocations. Each route's
	// first state call also checks the token's revocation and rate, in the same round trip.
	state    state.State
	stateLog atomic.Int64 // unix nanoseconds of the last "shared state unavailable" log line
	metrics  *metrics
	static   *static
	links    linkRewriter
	polls    pollCounter

	devices      map[string]Device
	allowOrigins map[string]bool
	cop          *http.CrossOriginProtection
	publicOrigin string // PublicURL without a trailing slash, or ""
	publicHost   string // PublicURL's host, normalised (normalHost), or ""
	addrHost     string // Config.Addr, normalised (normalHost): hostAllowed compares every Host with it

	// drain: baseCtx is the parent of every request's context; it is cancelled when the shutdown grace is
	// over, so open long-polls answer at once.
	baseCtx    context.Context
	cancelBase context.CancelFunc
	// leaveCtx ends when the shutdown grace starts (startLeaving): open long-polls answer then.
	leaveCtx context.Context
	leaveNow context.CancelFunc
	// leaveShards are children of leaveCtx that long-polls wait on (initLeave).
	leaveShards [leaveShardCount]context.Context
	leaveNext   atomic.Uint32
	draining    atomic.Bool

	warnings []string
	// audited: the final outcomes this instance has audited (at most once per instance, see noteStatus).
	audited auditedSet
}

// New checks cfg, fills in defaults and builds the proxy. Nothing is contacted yet: the first Payroc token is
// minted on the first request that needs one (or by /readyz).
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	secrets := cfg.TokenSecrets
	if len(secrets) == 0 {
		secrets = [][]byte{lane.RandomSecret()} // simulator mode only (check refuses otherwise)
	}
	keys, err := lane.NewKeyring(secrets)
	if err != nil {
		return nil, err
	}
	keys.Now = cfg.Now
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	s := &Server{
		cfg:          cfg,
		httpClient:   hc,
		log:          cfg.Logger,
		keys:         keys,
		devices:      make(map[string]Device, len(cfg.Devices)),
		allowOrigins: make(map[string]bool, len(cfg.AllowOrigins)),
		cop:          http.NewCrossOriginProtection(),
		publicOrigin: strings.TrimRight(cfg.PublicURL, "/"),
		addrHost:     normalHost(cfg.Addr),
	}
	if u, err := url.Parse(s.publicOrigin); err == nil {
		s.publicHost = normalHost(u.Host)
	}
	s.openState()
	base, cancel := context.WithCancel(context.Background())
	s.baseCtx, s.cancelBase = context.WithValue(base, baseCtxKey{}, s), cancel
	s.initLeave()
	for _, d := range cfg.Devices {
		s.devices[d.Serial] = d
	}
	if err := s.trustOrigins(); err != nil {
		return nil, err
	}
	api, _ := url.Parse(cfg.APIURL)
	s.links = linkRewriter{apiPath: api.Path}
	s.metrics = newMetrics(s.busyDevices)
	s.client = s.upstreamClient(payroc.HTTPDoer{Client: hc})
	s.static = newStatic(cfg.WebDir)
	s.warnings = s.static.check()
	if !cfg.Simulate && cfg.PublicURL == "" {
		s.warnings = append(s.warnings, "no public URL: only requests for "+cfg.Addr+" or the address they reached are answered "+
			"(421 misdirected-request otherwise); behind a load balancer set the public URL")
	}
	for _, w := range s.warnings {
		s.log.Warn(w, "web", cfg.WebDir)
	}
	return s, nil
}

// openState takes Config.State, or builds the memory state (one instance) with the proxy's rules.
func (s *Server) openState() {
	s.state = s.cfg.State
	if s.state == nil {
		s.state = state.NewMemory(s.cfg.StateSettings())
	}
}

// trustOrigins lets the -allow-origin origins and the public origin through cross-origin protection.
func (s *Server) trustOrigins() error {
	for _, o := range s.cfg.AllowOrigins {
		s.allowOrigins[o] = true
		if err := s.cop.AddTrustedOrigin(o); err != nil {
			return &FieldError{Field: "AllowOrigins", Err: fmt.Errorf("%q: %v", o, err)}
		}
	}
	if s.publicOrigin != "" {
		u, _ := url.Parse(s.publicOrigin)
		if err := s.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return &FieldError{Field: "PublicURL", Err: err}
		}
	}
	return nil
}

// upstreamClient is the payroc client the proxy forwards with, behind its Payroc token cache.
func (s *Server) upstreamClient(doer payroc.Doer) *payroc.Client {
	cfg := s.cfg
	identity := &payroc.Identity{BaseURL: cfg.IdentityURL, APIKey: cfg.APIKey, Doer: doer, Now: cfg.Now}
	s.tokens = &payroc.TokenCache{
		Mint:          identity.Mint,
		RefreshBefore: cfg.TokenRefreshBefore,
		MinBackoff:    cfg.MintMinBackoff,
		MaxBackoff:    cfg.MintMaxBackoff,
		MintTimeout:   10 * time.Second,
		Now:           cfg.Now,
		OnMint:        s.onMint,
	}
	return &payroc.Client{BaseURL: cfg.APIURL, Doer: doer, Tokens: s.tokens}
}

// Warnings lists problems found at start that do not stop the proxy (e.g. payroc.wasm not built), one
// sentence each, for main to print beside its start line.
func (s *Server) Warnings() []string { return append([]string(nil), s.warnings...) }

func (s *Server) onMint(took time.Duration, err error) {
	s.metrics.mintTime.Observe(took.Seconds())
	if err != nil {
		s.metrics.mints.WithLabelValues("error").Inc()
		// The error says what identity answered (a status, a problem code), never the key or a token.
		s.log.Warn("payroc token mint failed", "took_ms", took.Milliseconds(), "error", payroc.AsError(err).Code)
		return
	}
	s.metrics.mints.WithLabelValues("ok").Inc()
	s.log.Info("payroc token minted", "took_ms", took.Milliseconds())
}

func defaultHTTPClient() *http.Client {
	return &http.Client{Transport: httpapi.UpstreamTransport(), CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // never follow a redirect with the bearer attached
	}}
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// busyDevices is the in-flight gauge: -1 while the shared state cannot be read.
func (s *Server) busyDevices() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := s.state.BusyDevices(ctx, s.now())
	if err != nil {
		return -1
	}
	return float64(n)
}

// stateFailed counts a failed state call and logs it, at most once a second (an outage fails every request).
// The error says what failed (a timeout, a refused connection), never the store's address or password.
func (s *Server) stateFailed(err error) {
	s.metrics.stateErrors.Inc()
	now := time.Now().UnixNano()
	if last := s.stateLog.Load(); now-last >= int64(time.Second) && s.stateLog.CompareAndSwap(last, now) {
		s.log.Warn("shared state unavailable: answering 503 state-unavailable", "error", err.Error())
	}
}

// baseCtxKey marks baseCtx (its value is the Server), so ServeHTTP can tell a request context that already
// ends with it.
type baseCtxKey struct{}

// statusWriter remembers the status, the route label and (once authenticated) the lane token id, for
// metrics and the access log.
type statusWriter struct {
	httpapi.StatusWriter
	route   string
	tokenID string
}

// ServeHTTP is a small middleware chain around the route switch (route): tie the request to the server's
// lifetime, log and measure it, turn a panic into a 500 problem, set the security headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r, release := s.bindToServer(r)
	defer release()
	sw := &statusWriter{StatusWriter: httpapi.StatusWriter{ResponseWriter: w}, route: "static"}
	defer s.logRequest(sw, r, time.Now())
	defer s.recoverPanic(sw, r)
	s.setSecurityHeaders(sw.Header(), r)
	s.limitBodyTime(w, r)
	if e := s.screen(sw, r); e != nil {
		sw.route = "refused"
		writeProblem(sw, e)
		return
	}
	s.route(sw, r)
}

// bindToServer ends r's context when the server closes or its shutdown grace is over, however the handler
// is hosted (Serve, httptest, a user's own server). Under Serve every request's context already descends
// from baseCtx, and r is returned as it is.
func (s *Server) bindToServer(r *http.Request) (*http.Request, func()) {
	if r.Context().Value(baseCtxKey{}) == s {
		return r, func() {}
	}
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(s.baseCtx, cancel)
	return r.WithContext(ctx), func() { stop(); cancel() }
}

// recoverPanic answers a panic with a 500 problem (when nothing was written yet) and logs it; the proxy
// stays up. http.ErrAbortHandler keeps its meaning.
func (s *Server) recoverPanic(sw *statusWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	s.log.Error("panic serving request", "method", methodLabel(r.Method), "route", sw.route, "panic", fmt.Sprint(p))
	if sw.Status == 0 {
		writeProblem(sw, problem(payroc.CodeInternalError, "The proxy failed; nothing was sent to Payroc"))
	}
}

// logRequest counts the request in the metrics and writes its access-log line: the route and the lane token
// id, never the request target (a lane token pasted into a path, query or fragment would be logged whole). Successful API calls are
// already in the audit lines (submit, cancel, final outcome) and the metrics; a line for each of them (every
// long-poll of every open watch) would bury the refusals and failures, which stay at Info. Static and
// operations requests are Debug too.
func (s *Server) logRequest(sw *statusWriter, r *http.Request, start time.Time) {
	status := sw.Status
	if status == 0 {
		status = 499 // the client left before an answer
	}
	s.metrics.observeRequest(sw.route, status)
	lvl := slog.LevelDebug
	if status >= 400 || sw.route == "lane" || sw.route == "dev_token" || sw.route == "admin" {
		lvl = slog.LevelInfo
	}
	s.logAttrs(r.Context(), lvl, "request", slog.String("method", methodLabel(r.Method)), slog.String("route", sw.route),
		slog.Int("status", status), slog.Int64("ms", time.Since(start).Milliseconds()), slog.String("laneTokenId", sw.tokenID))
}

// methodLabel is r.Method for a log line: any token is a valid method, so one the proxy has no use for is
// logged as "other" (it could be anything a client typed, even a pasted token).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// Header values every answer carries, made once: setting them costs no allocation per request (net/http
// never changes a value slice in place, and an Add to one makes a new one).
var (
	valNosniff    = []string{"nosniff"}
	valNoReferrer = []string{"no-referrer"}
	valHSTS       = []string{"max-age=31536000"}
	valNoStore    = []string{"no-store"}
	valJSON       = []string{"application/json"}
)

func (s *Server) setSecurityHeaders(h http.Header, r *http.Request) {
	h["X-Content-Type-Options"] = valNosniff
	h["Referrer-Policy"] = valNoReferrer
	if r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://") {
		// Browsers that once reached the POS over HTTPS never fall back to plain HTTP for it.
		h["Strict-Transport-Security"] = valHSTS
	}
}

// route sends /v1/ to the API allowlist, the lane-token and operations endpoints to theirs, and everything
// else to the static files, and labels the request for metrics and logs.
func (s *Server) route(sw *statusWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v1" || strings.HasPrefix(p, "/v1/"):
		s.serveAPI(sw, r)
	case p == "/lane":
		sw.route = "lane"
		s.serveLane(sw, r)
	case p == "/dev/token" && s.cfg.Simulate:
		sw.route = "dev_token"
		s.serveDevToken(sw, r)
	case p == "/admin/lane-tokens" && s.cfg.AdminKey != "":
		sw.route = "admin"
		s.serveAdmin(sw, r)
	case strings.HasPrefix(p, "/admin/lane-tokens/") && s.cfg.AdminKey != "":
		sw.route = "admin"
		s.serveRevoke(sw, r)
	case p == "/healthz":
		sw.route = "healthz"
		s.serveHealth(sw, r)
	case p == "/readyz":
		sw.route = "readyz"
		s.serveReady(sw, r)
	case p == "/metrics":
		sw.route = "metrics"
		s.metrics.handler().ServeHTTP(sw, r)
	default:
		s.staticCORS(sw, r)
		s.static.serve(sw, r)
	}
}

// origin is the proxy's origin as the browser sees it: -public-url, else the request's own.
func (s *Server) origin(r *http.Request) string {
	if s.publicOrigin != "" {
		return s.publicOrigin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
