package bench

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/posrefund/cloud/e2e/harness"
)

// sharedState holds what several benchmarks use and only one should make: the minimal wasm build, the web
// folder assembled for the browser pages, the headless browser. Each is made on first use; Close removes them.
type sharedState struct {
	mu      sync.Mutex
	dir     string
	minDone bool
	minErr  error
	web     string
	webErr  error
	browser *harness.Browser
	brErr   error
}

var shared sharedState

func (s *sharedState) tempDir() (string, error) {
	if s.dir == "" {
		d, err := os.MkdirTemp("", "payroc-bench-")
		if err != nil {
			return "", err
		}
		s.dir = d
	}
	return s.dir, nil
}

// minimalWasm builds the minimal Go wasm once and returns the folder holding min.wasm, .br and .gz.
func (s *sharedState) minimalWasm(tb testing.TB) string {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	dir, err := s.tempDir()
	if err != nil {
		tb.Fatal(err)
	}
	if !s.minDone {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		s.minErr = buildMinimalWasm(ctx, dir)
		cancel()
		s.minDone = true
	}
	if s.minErr != nil {
		tb.Fatal(s.minErr)
	}
	return dir
}

// webDir returns a web folder with the module's files, the minimal wasm and the benchmark pages.
func (s *sharedState) webDir(tb testing.TB) string {
	tb.Helper()
	minDir := s.minimalWasm(tb)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.web == "" && s.webErr == nil {
		web := filepath.Join(minDir, "web")
		if s.webErr = os.Mkdir(web, 0o755); s.webErr == nil {
			s.webErr = assembleWeb(web, minDir)
		}
		s.web = web
	}
	if s.webErr != nil {
		tb.Fatal(s.webErr)
	}
	return s.web
}

// chromium returns the headless browser, started on first use (P2, P6).
func (s *sharedState) chromium(tb testing.TB) *harness.Browser {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.browser == nil && s.brErr == nil {
		s.browser, s.brErr = harness.StartBrowser(harness.BrowserConfig{})
	}
	if s.brErr != nil {
		tb.Fatal(s.brErr)
	}
	return s.browser
}

// Close stops the browser and removes the temporary folder.
func (s *sharedState) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.browser != nil {
		s.browser.Close()
		s.browser = nil
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
		s.dir = ""
	}
}
