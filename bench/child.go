package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// P4 runs the front (the proxy, or the bare ReverseProxy baseline) in a child process — this test binary run
// again with childEnv set — so that the memory it reports per held watch is the front's own, not the clients'
// or the simulator's, and so each process needs only one file descriptor per watch.
const (
	childEnv      = "PAYROC_BENCH_CHILD" // "proxy" or "bare"
	childUpstream = "PAYROC_BENCH_UPSTREAM"
	childAPIKey   = "PAYROC_BENCH_API_KEY"
	childSecret   = "PAYROC_BENCH_SECRET"
	childCert     = "PAYROC_BENCH_CERT"
	childKey      = "PAYROC_BENCH_KEY"
)

// childMem is what the child's /mem answers, after two garbage collections.
type childMem struct {
	HeapInuse  uint64 `json:"heapInuse"`
	StackInuse uint64 `json:"stackInuse"`
	Goroutines int    `json:"goroutines"`
	RSS        uint64 `json:"rss"`
}

// InUse is the Go memory the front holds: live heap spans and goroutine stacks.
func (m childMem) InUse() uint64 { return m.HeapInuse + m.StackInuse }

// childMain serves the front over HTTPS (HTTP/2) until its stdin closes. Its first stdout line says where:
// "front=https://127.0.0.1:P ctl=http://127.0.0.1:Q nofile=N".
func childMain(role string) int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	nofile := raiseOpenFileLimit(1 << 20)
	srv, err := childServer(role, os.Getenv(childUpstream))
	if err != nil {
		return fail(err)
	}
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mem", serveMem)
	mux.HandleFunc("/debug/pprof/", pprof.Index) // heap and goroutine profiles of the front, for a closer look
	go func() { _ = http.Serve(ctl, mux) }()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv(ctx, front, os.Getenv(childCert), os.Getenv(childKey)) }()
	fmt.Printf("front=https://%s ctl=http://%s nofile=%d\n", front.Addr(), ctl.Addr(), nofile)
	_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes stdin (or dies): time to go
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	return 0
}

// serveFunc serves HTTPS on l until ctx ends.
type serveFunc func(ctx context.Context, l net.Listener, cert, key string) error

// childServer is the front of role: the proxy, or the bare ReverseProxy behind the proxy's own server
// settings (its HTTPServer, minus the handler).
func childServer(role, upstream string) (serveFunc, error) {
	switch role {
	case "proxy":
		devices, err := simDevices(upstream)
		if err != nil {
			return nil, err
		}
		proxy, err := server.New(server.Config{
			WebDir:        os.TempDir(),
			Devices:       devices,
			Rate:          100_000,
			APIURL:        upstream + "/v1",
			IdentityURL:   upstream,
			APIKey:        os.Getenv(childAPIKey),
			TokenSecrets:  [][]byte{[]byte(os.Getenv(childSecret))},
			PollTimeout:   2 * time.Minute,
			ShutdownGrace: time.Second,
			Logger:        slog.New(slog.NewJSONHandler(devNull(), &slog.HandlerOptions{Level: slog.LevelInfo})),
			Version:       "bench",
		})
		if err != nil {
			return nil, err
		}
		return proxy.ServeTLS, nil
	case "bare":
		return func(ctx context.Context, l net.Listener, cert, key string) error {
			hs := &http.Server{Handler: bareProxy(upstream), ReadHeaderTimeout: 10 * time.Second,
				IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 128 << 10, ErrorLog: log.New(io.Discard, "", 0)}
			stop := context.AfterFunc(ctx, func() { _ = hs.Close() })
			defer stop()
			return hs.ServeTLS(l, cert, key)
		}, nil
	}
	return nil, fmt.Errorf("unknown role %q", role)
}

// simDevices reads the simulator's devices (GET /sim/devices) as the proxy's device list.
func simDevices(upstream string) ([]server.Device, error) {
	res, err := http.Get(upstream + "/sim/devices")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var body struct {
		Devices []sim.Device `json:"devices"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := make([]server.Device, 0, len(body.Devices))
	for _, d := range body.Devices {
		out = append(out, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID, Label: d.Label})
	}
	return out, nil
}

func serveMem(w http.ResponseWriter, _ *http.Request) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := childMem{HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine(), RSS: rss(os.Getpid())}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}

// rss is a process's resident set size in bytes (VmRSS), or 0 when unknown.
func rss(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// child is a running P4 front process.
type child struct {
	Front, Ctl string
	NoFile     int
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	exited     chan struct{}
}

// startChild starts this test binary again as the P4 front for role, in front of up.
func startChild(tb testing.TB, role string, up *simStack, secret, certFile, keyFile string) *child {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childUpstream+"="+up.URL, childAPIKey+"="+up.Sim.APIKey(),
		childSecret+"="+secret, childCert+"="+certFile, childKey+"="+keyFile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	tb.Cleanup(c.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("the %s child did not start: %v", role, err)
	}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "front":
			c.Front = v
		case "ctl":
			c.Ctl = v
		case "nofile":
			c.NoFile, _ = strconv.Atoi(v)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return c
}

// mem asks the child for its memory in use.
func (c *child) mem() (childMem, error) {
	var m childMem
	res, err := http.Get(c.Ctl + "/mem")
	if err != nil {
		return m, err
	}
	defer res.Body.Close()
	err = json.NewDecoder(res.Body).Decode(&m)
	return m, err
}

// stop closes the child's stdin and waits for it to exit (killing it after 15 s).
func (c *child) stop() {
	_ = c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}
