package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// Fast device timings for browser tests: a device answers in a third of a second and a long-poll is held one
// second (so the "approved after a re-poll" outcome needs two). An instruction nobody finishes (amounts
// ending in 03 and 05) stays in progress until the test ends it (Sim.Finish, the page's Cancel) or the stack
// closes: its timeout is longer than any run, so no test races it however busy the machine is. A test that
// needs another amount kept in progress scripts it with Sim.HoldNext.
const (
	FastDelay   = 300 * time.Millisecond
	FastHold    = time.Second
	FastTimeout = time.Hour
)

// StackConfig describes the in-process simulator and proxy. Zero values take the fast timings above.
type StackConfig struct {
	// WebDir is the proxy's -web folder (the module's web/, with payroc.wasm built). Required.
	WebDir string
	// Sim is the simulator's configuration; zero durations become FastDelay, FastHold and FastTimeout.
	Sim sim.Config
	// Proxy, when set, adjusts each proxy's configuration after the harness filled it in.
	Proxy func(*server.Config)
	// Redis starts a redis-server for the stack and keeps every proxy's state there (-state redis).
	Redis bool
	// Instances > 1 starts that many proxies (Stack.Proxies) behind a round-robin Front (Stack.Front).
	Instances int
}

// Stack is the Payroc Cloud simulator and the proxy in front of it, both on loopback in this process, so a
// test drives the page in the browser and reads or steers the simulator directly (counters, faults).
type Stack struct {
	// Sim is the simulator: Stats, RefundsFor, FailNext, DropNext, Finish…
	Sim *sim.Simulator
	// SimURL is the simulator's own origin (identity at /authorize, the API under /v1, controls under /sim/).
	SimURL string
	// Proxy is the proxy the page talks to.
	Proxy *Proxy
	// AdminKey enables POST /admin/lane-tokens on every proxy of the stack (see LaneToken).
	AdminKey string
	// Proxies are the stack's instances (Proxy first) and Front the load balancer before them, when
	// StackConfig.Instances > 1 (see shared.go).
	Proxies []*Proxy
	Front   *Front

	redis   *redistest.Server
	mu      sync.Mutex
	clients []*redis.Client

	cfg     StackConfig
	secret  []byte
	seen    *secretsSeen
	simSrv  *http.Server
	simDone chan struct{}
}

// StartStack starts the simulator and one proxy on free loopback ports.
func StartStack(cfg StackConfig) (*Stack, error) {
	if cfg.WebDir == "" {
		return nil, errors.New("harness: StackConfig.WebDir is required")
	}
	if cfg.Sim.Delay == 0 {
		cfg.Sim.Delay = FastDelay
	}
	if cfg.Sim.Hold == 0 {
		cfg.Sim.Hold = FastHold
	}
	if cfg.Sim.Timeout == 0 {
		cfg.Sim.Timeout = FastTimeout
	}
	s := &Stack{cfg: cfg, Sim: sim.New(cfg.Sim), secret: []byte(randomHex(32)), AdminKey: randomHex(32)}
	s.seen = &secretsSeen{next: s.Sim}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Sim.Close()
		return nil, fmt.Errorf("harness: simulator listener: %w", err)
	}
	s.SimURL = "http://" + l.Addr().String()
	s.simSrv = &http.Server{Handler: s.seen, ReadHeaderTimeout: 10 * time.Second}
	s.simDone = make(chan struct{})
	go func() {
		defer close(s.simDone)
		_ = s.simSrv.Serve(l)
	}()
	if cfg.Redis {
		if err := s.startShared(); err != nil { // Redis first: every proxy opens its state there
			s.Close()
			return nil, err
		}
	}
	p, err := s.StartProxy("127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Proxy = p
	if err := s.startInstances(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close stops the proxies started by StartStack and the simulator.
func (s *Stack) Close() {
	if s.Proxy != nil {
		s.Proxy.Stop()
	}
	s.closeShared()
	s.Sim.Close()
	if s.simSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.simSrv.Shutdown(ctx)
		cancel()
		_ = s.simSrv.Close()
		<-s.simDone
	}
}

// APIKey is the Payroc API key the proxies hold (the simulator's): it must never reach a browser.
func (s *Stack) APIKey() string { return s.Sim.APIKey() }

// Bearers returns every Payroc bearer token the simulator issued or was shown so far: none may ever reach a
// browser.
func (s *Stack) Bearers() []string { return s.seen.list() }

// Proxy is one in-process proxy, restartable on the same address.
type Proxy struct {
	// URL is the proxy's origin, e.g. http://127.0.0.1:41234 (the page is at URL + "/").
	URL string

	stack *Stack
	addr  string
	logs  *lockedBuffer

	mu     sync.Mutex
	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
}

// StartProxy starts another proxy in front of the stack's simulator, on addr ("127.0.0.1:0" for a free
// port). All proxies of a stack share the lane-token signing key, so a token works on each of them.
func (s *Stack) StartProxy(addr string) (*Proxy, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("harness: proxy listener: %w", err)
	}
	p := &Proxy{stack: s, addr: l.Addr().String(), logs: &lockedBuffer{}}
	p.URL = "http://" + p.addr
	if err := p.serve(l); err != nil {
		l.Close()
		return nil, err
	}
	return p, nil
}

func (p *Proxy) config() (server.Config, error) {
	s := p.stack
	var devices []server.Device
	for _, d := range s.Sim.Devices() {
		devices = append(devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID, Label: d.Label})
	}
	cfg := server.Config{
		Addr:         p.addr,
		WebDir:       s.cfg.WebDir,
		Devices:      devices,
		Simulate:     true,
		APIURL:       s.SimURL + "/v1",
		IdentityURL:  s.SimURL,
		APIKey:       s.Sim.APIKey(),
		TokenSecrets: [][]byte{s.secret},
		AdminKey:     s.AdminKey,
		// A page that vanished mid-refund must not hold its device for minutes in a test run.
		BusyTimeout:   30 * time.Second,
		ShutdownGrace: 2 * time.Second,
		Logger:        slog.New(slog.NewJSONHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:       "e2e",
	}
	if s.cfg.Proxy != nil {
		s.cfg.Proxy(&cfg)
	}
	if cfg.State == nil {
		st, err := s.openState(cfg)
		if err != nil {
			return cfg, err
		}
		cfg.State = st
	}
	return cfg, nil
}

func (p *Proxy) serve(l net.Listener) error {
	cfg, err := p.config()
	if err != nil {
		return fmt.Errorf("harness: proxy: %w", err)
	}
	srv, err := server.New(cfg)
	if err != nil {
		return fmt.Errorf("harness: proxy: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	p.mu.Lock()
	p.srv, p.cancel, p.done = srv, cancel, done
	p.mu.Unlock()
	return nil
}

// Stop shuts the proxy down (open long-polls get the shutdown grace) and waits until it is gone.
func (p *Proxy) Stop() {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.cancel, p.done = nil, nil
	p.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Restart stops the proxy and starts a fresh one on the same address: its memory (which lane made which
// instruction, the device guard, the Payroc token cache) is gone, as after a real restart or a deploy.
func (p *Proxy) Restart() error {
	p.Stop()
	var l net.Listener
	var err error
	// The old socket is closed; the port is free again at once on Linux (SO_REUSEADDR), but give a busy
	// machine a moment.
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("harness: restarting the proxy on %s: %w", p.addr, err)
	}
	return p.serve(l)
}

// Logs returns everything the proxy logged (JSON lines), for checks that no secret is ever logged.
func (p *Proxy) Logs() string { return p.logs.String() }

// LaneToken mints a lane token with the proxy's admin API (POST /admin/lane-tokens), as a merchant's back
// office does for a signed-in cashier.
func (p *Proxy) LaneToken(ctx context.Context, req server.TokenRequest) (server.TokenResponse, error) {
	var out server.TokenResponse
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL+"/admin/lane-tokens", bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	hr.Header.Set("Authorization", "Bearer "+p.stack.AdminKey)
	hr.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		return out, fmt.Errorf("harness: minting a lane token: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return out, fmt.Errorf("harness: minting a lane token: %s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("harness: minting a lane token: %w", err)
	}
	return out, nil
}

// lockedBuffer is a bytes.Buffer safe for the proxy's concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
