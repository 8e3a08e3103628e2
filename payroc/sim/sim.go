package sim

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// Defaults for the zero values of Config. The proxy's -sim-* flags use the same numbers.
const (
	DefaultAPIKey          = "sim-api-key"
	DefaultDelay           = 3 * time.Second
	DefaultHold            = 60 * time.Second
	DefaultTimeout         = 2 * time.Minute
	DefaultTokenTTL        = time.Hour
	DefaultRetention       = 24 * time.Hour
	DefaultMaxInstructions = 100_000
	// MaxExtraDevices bounds Config.ExtraDevices: serials 1850020001…1850029999.
	MaxExtraDevices = 9999
)

// Config tunes a Simulator. Its zero value is a simulator with Payroc's own timings and the two documented
// devices; tests shrink the durations to milliseconds.
type Config struct {
	// APIKey is the one x-api-key identity accepts ("" means DefaultAPIKey). Any other key gets a 401.
	APIKey string
	// Delay is how long a simulated device takes to finish an instruction (0: 3s).
	Delay time.Duration
	// Hold is how long a status GET on an inProgress instruction is held before it answers unchanged (0: 60s).
	Hold time.Duration
	// Timeout is when an instruction nobody finishes (no card presented) fails (0: 2m).
	Timeout time.Duration
	// TokenTTL is the lifetime of an identity bearer token (0: 1h).
	TokenTTL time.Duration
	// ExtraDevices adds devices 1850020001, 1850020002, … on terminal 1234001, for load tests (at most
	// MaxExtraDevices).
	ExtraDevices int
	// Retention is how long a finished instruction, its refund and its idempotency key are remembered (0: 24h).
	// Payroc does not publish its own window. A replay of a forgotten key makes a new instruction.
	Retention time.Duration
	// MaxInstructions caps the instructions held in memory (0: 100000). Beyond it the oldest finished ones
	// are forgotten first; when every one is still in progress a submit answers 503.
	MaxInstructions int
	// Now is the clock for token expiry, retention and the refunds' dateTime (nil: time.Now). Device delays
	// and long-poll holds always run on real timers.
	Now func() time.Time
	// Logger receives structured logs (nil: discarded). Keys and bearer tokens are never logged.
	Logger *slog.Logger
}

// Device is a simulated payment device.
type Device struct {
	SerialNumber         string `json:"serialNumber"`
	ProcessingTerminalID string `json:"processingTerminalId"`
	Label                string `json:"label"`
}

// Simulator is an in-memory Payroc Cloud: identity, the four refund endpoints and the test controls, as one
// http.Handler. It is safe for concurrent use. Close it to stop its timers.
type Simulator struct {
	cfg      Config
	log      *slog.Logger
	devices  []Device
	bySerial map[string]Device
	signKey  []byte
	done     chan struct{} // closed by Close: releases held long-polls

	mu       sync.Mutex
	closed   bool
	insts    map[string]*instruction // by refundInstructionId
	byKey    map[string]*instruction // by idempotency key (lower case)
	refunds  map[string]*instruction // by refundId
	finished []*instruction          // final instructions in the order they ended (for expiry)
	held     int                     // long-polls being held now
	ctl      controls
}

// New returns a running simulator. The caller serves it (httptest.NewServer(s), http.Server) and calls Close.
func New(cfg Config) *Simulator {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.Delay <= 0 {
		cfg.Delay = DefaultDelay
	}
	if cfg.Hold <= 0 {
		cfg.Hold = DefaultHold
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.MaxInstructions <= 0 {
		cfg.MaxInstructions = DefaultMaxInstructions
	}
	cfg.ExtraDevices = min(max(cfg.ExtraDevices, 0), MaxExtraDevices)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Simulator{
		cfg:     cfg,
		log:     cfg.Logger,
		signKey: make([]byte, 32),
		done:    make(chan struct{}),
		insts:   make(map[string]*instruction),
		byKey:   make(map[string]*instruction),
		refunds: make(map[string]*instruction),
	}
	_, _ = rand.Read(s.signKey) // crypto/rand never fails on supported platforms
	s.devices = []Device{
		{SerialNumber: "1850010868", ProcessingTerminalID: "1234001", Label: "Counter 1"},
		{SerialNumber: "1850010869", ProcessingTerminalID: "1234002", Label: "Counter 2"},
	}
	for i := 1; i <= cfg.ExtraDevices; i++ {
		s.devices = append(s.devices, Device{
			SerialNumber:         fmt.Sprintf("185002%04d", i),
			ProcessingTerminalID: "1234001",
			Label:                fmt.Sprintf("Extra %d", i),
		})
	}
	s.bySerial = make(map[string]Device, len(s.devices))
	for _, d := range s.devices {
		s.bySerial[d.SerialNumber] = d
	}
	s.ctl.reset()
	return s
}

// Devices returns the simulated devices: 1850010868 (terminal 1234001), 1850010869 (1234002), then the extras.
func (s *Simulator) Devices() []Device {
	return append([]Device(nil), s.devices...)
}

// APIKey returns the key identity accepts (after defaults), so an in-process caller can mint tokens.
func (s *Simulator) APIKey() string { return s.cfg.APIKey }

// Close stops every device timer and answers every held long-poll at once. Later API calls get a 503; the
// controls and counters still answer. Close is idempotent.
func (s *Simulator) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.done)
	for _, in := range s.insts {
		in.stopTimer()
	}
}

func (s *Simulator) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Simulator) now() time.Time { return s.cfg.Now() }

// ServeHTTP serves identity (POST /authorize, also /v1/authorize), the four refund endpoints under /v1 and at
// the root, and the test controls under /sim/.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if path == "/sim" || strings.HasPrefix(path, "/sim/") {
		s.serveControl(w, r)
		return
	}
	start := time.Now()
	sw := &httpapi.StatusWriter{ResponseWriter: w}
	route, param, allow := matchRoute(r.Method, path)
	s.count(route)
	defer func() {
		s.log.Debug("payroc sim request", "method", r.Method, "route", string(route), "status", sw.Status,
			"duration", time.Since(start))
	}()

	if route == RouteOther {
		drain(r)
		if allow == "" {
			httpapi.WriteProblem(sw, httpapi.Problem("", payroc.CodeNotFound, "No such resource: "+r.URL.Path))
			return
		}
		sw.Header().Set("Allow", allow)
		httpapi.WriteProblem(sw, httpapi.Problem("", payroc.CodeMethodNotAllowed, r.Method+" is not allowed here; use "+allow))
		return
	}

	if d := s.latency(route); d > 0 {
		// Read the body first: only then does net/http watch the connection and end the request's context
		// when the client leaves, which ends the latency (as Payroc goes on with a request its caller gave up).
		bufferBody(r)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.done:
		}
		t.Stop()
	}
	if f, ok := s.takeFault(route); ok {
		drain(r)
		httpapi.WriteProblem(sw, f.problem())
		return
	}
	dropIt := s.takeDrop(route)
	var out http.ResponseWriter = sw
	if dropIt {
		out = &bufferWriter{header: http.Header{}}
	}
	if route == RouteIdentity {
		s.authorize(out, r)
	} else {
		s.serveAPI(out, r, route, param)
	}
	if dropIt {
		sw.Status = -1
		s.log.Info("payroc sim dropped a connection after answering", "route", string(route))
		dropConnection(w, r)
	}
}

// matchRoute maps a request to a Route: identity at /authorize (and /v1/authorize), the API under /v1 and at
// the root (Payroc's SDKs with one base URL drop /v1). RouteOther with allow set is a 405, without a 404.
func matchRoute(method, path string) (route Route, param, allow string) {
	if path == "/authorize" || path == "/v1/authorize" {
		if method != http.MethodPost {
			return RouteOther, "", http.MethodPost
		}
		return RouteIdentity, "", ""
	}
	rest, _ := httpapi.TrimV1(path)
	route, param, allow = httpapi.Match(method, rest)
	if route == RouteOther {
		param = ""
	}
	return route, param, allow
}
