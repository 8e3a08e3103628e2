// Package redistest runs a real redis-server for tests: Debian's package, on a free loopback port, with no
// persistence, stopped when the test ends. There is no mock Redis and no skipping: without redis-server the
// test fails with the one command that installs it (make test installs it when run as root).
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Install is the one command to run when redis-server is missing.
const Install = "sudo apt-get install -y redis-server   (or run `make test` as root, which installs it)"

// Server is one redis-server process. Stop, Start and Pause let tests take it away mid-run.
type Server struct {
	bin      string
	port     int
	password string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Option adjusts a Server before it starts.
type Option func(*Server)

// WithPassword makes the server require AUTH with password (requirepass).
func WithPassword(password string) Option { return func(s *Server) { s.password = password } }

// Start runs a redis-server for t and stops it when t ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// New runs a redis-server on a free loopback port; the caller stops it.
func New(opts ...Option) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/redis-server"); statErr != nil {
			return nil, fmt.Errorf("redis-server is missing: the shared-state tests need a real one. Install it: %s", Install)
		}
		bin = "/usr/bin/redis-server"
	}
	s := &Server{bin: bin}
	for _, o := range opts {
		o(s)
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	return s, s.Start()
}

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the redis:// URL of the server (with its password, when it has one).
func (s *Server) URL() string {
	if s.password != "" {
		return "redis://:" + s.password + "@" + s.Addr() + "/0"
	}
	return "redis://" + s.Addr() + "/0"
}

// Start (re)starts the server on its port, empty (no persistence), and waits until it answers.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning", "--logfile", "", "--dir", os.TempDir()}
	if s.password != "" {
		args = append(args, "--requirepass", s.password)
	}
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for !s.ping() {
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer on %s within 10s", s.Addr())
		}
		time.Sleep(5 * time.Millisecond) // polling a starting process: no event to wait on
	}
	return nil
}

// Stop kills the server (its data is gone: there is no persistence) and waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused server would not die cleanly
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Pause freezes the server (SIGSTOP): connections stay open and calls hang, as with a Redis that is slow or
// cut off by the network. Resume undoes it.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Do sends one command and returns its first reply line (for test checks without a client library).
func (s *Server) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	if s.password != "" {
		fmt.Fprintf(&b, "*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(s.password), s.password)
	}
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	if s.password != "" {
		if _, err := r.ReadString('\n'); err != nil {
			return "", err
		}
	}
	line, err := r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func (s *Server) ping() bool {
	reply, err := s.Do("PING")
	return err == nil && reply == "+PONG"
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
