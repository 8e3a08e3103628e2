package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

func TestIsGoFatal(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       bool
	}{
		{"Panic", "panic: boom\n\ngoroutine 1 [running]:", true},
		{"PanicAfterOtherOutput", "some line\npanic: runtime error: index out of range", true},
		{"FatalError", "fatal error: out of memory", true},
		{"ExitCode", "exit code: 2", true},
		{"RecoveredPanic", "payroc: recovered panic: unexpected failure in the payroc module: x", true},
		{"AlreadyExited", "Go program has already exited", true},
		{"Ordinary", "payroc: localStorage is unavailable", false},
		{"WordPanicInside", "do not panic: all is well", false},
		{"Empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, isGoFatal(tc.text), "isGoFatal(%q)", tc.text)
		})
	}
}

func TestSanitize(t *testing.T) {
	assert.Equal(t, "TestA_sub_case_1", sanitize("TestA/sub case:1"))
}

// The bearer recorder sees every token identity issues and every one presented to the API.
func TestSecretsSeenRecordsBearers(t *testing.T) {
	s := sim.New(sim.Config{APIKey: "test-key"})
	defer s.Close()
	seen := &secretsSeen{next: s}
	srv := httptest.NewServer(seen)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/authorize", nil)
	req.Header.Set("x-api-key", "test-key")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body), "identity answered %s", res.Status)
	require.NotEmpty(t, body.AccessToken, "identity answered %s", res.Status)
	res.Body.Close()
	require.Equal(t, []string{body.AccessToken}, seen.list(), "the issued token is recorded")

	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/v1/refunds/ABCDEFGHIJ", nil)
	req.Header.Set("Authorization", "Bearer presented-elsewhere")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Contains(t, strings.Join(seen.list(), ","), "presented-elsewhere", "the presented bearer is recorded too")
}

// A proxy restarted by the harness comes back on the same address with a fresh memory.
func TestStackProxyRestartKeepsItsAddress(t *testing.T) {
	stack, err := StartStack(StackConfig{WebDir: t.TempDir()})
	require.NoError(t, err)
	defer stack.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := stack.Proxy.LaneToken(ctx, server.TokenRequest{Devices: []string{"1850010868"}, MaxAmount: 100, Lane: "harness"})
	require.NoError(t, err)
	lane := func() int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, stack.Proxy.URL+"/lane", nil)
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, lane(), "GET /lane before the restart")
	url := stack.Proxy.URL
	require.NoError(t, stack.Proxy.Restart())
	assert.Equal(t, url, stack.Proxy.URL, "URL after restart")
	// The signing key is the stack's, so the token still works on the restarted proxy.
	assert.Equal(t, http.StatusOK, lane(), "GET /lane after the restart")
	assert.Contains(t, stack.Proxy.Logs(), "request", "the proxy's log is empty")
}

// fakeTB records what a Tab reports instead of failing the real test, to test the failure paths.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	failed   bool
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.failed = true
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Errorf(format, args...); panic("fatal") }
func (f *fakeTB) Failed() bool                      { f.mu.Lock(); defer f.mu.Unlock(); return f.failed }
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) finish() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}
func (f *fakeTB) errors() string { f.mu.Lock(); defer f.mu.Unlock(); return strings.Join(f.errs, "\n") }

// A page's uncaught exception and a Go panic line fail the test, with the artifacts named; the console is
// recorded; the network recorder keeps bodies.
func TestTabReportsPageFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>t</title><p data-testid="hello">Hello</p>`)
	})
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"answer":42}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	artifacts := t.TempDir()
	b, err := StartBrowser(BrowserConfig{ArtifactsDir: artifacts})
	require.NoError(t, err, "Chromium must be available for the harness tests")
	defer b.Close()

	for _, tc := range []struct {
		name, script, want string
		allowExit          bool
	}{
		{"UncaughtException", `setTimeout(() => { throw new Error("kaboom") }, 0)`, "uncaught exception in the page: Uncaught Error: kaboom", false},
		{"UnhandledRejection", `Promise.reject(new Error("nobody caught me"))`, "nobody caught me", false},
		{"GoPanic", `console.log("panic: boom\n\ngoroutine 1 [running]:")`, "the page's Go program died: panic: boom", false},
		{"GoPanicAllowed", `console.log("panic: boom")`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTB{TB: t}
			tab := b.NewTab(ft)
			if tc.allowExit {
				tab.AllowExit()
			}
			net := tab.RecordNetwork()
			tab.Navigate(srv.URL + "/")
			assert.Equal(t, "Hello", tab.Text("hello"))
			assert.EqualValues(t, 42, Eval[float64](tab, `fetch("/data").then(r => r.json()).then(j => j.answer)`), "fetch answer")
			Eval[struct{}](tab, `(`+tc.script+`, {})`)
			deadline := time.Now().Add(5 * time.Second)
			for len(tab.Console()) == 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			x := net.Find("/data")
			assert.True(t, len(x) == 1 && string(x[0].Body) == `{"answer":42}` && x[0].Status == 200, "recorded /data = %+v, want its body and status", x)
			ft.finish()
			errs := ft.errors()
			if tc.want == "" {
				assert.Empty(t, errs, "the tab reported something")
				return
			}
			assert.Contains(t, errs, tc.want, "what the tab reported")
			assert.Contains(t, errs, "artifacts: "+artifacts, "the failure names the artifacts folder")
			dir := filepath.Join(artifacts, sanitize(t.Name()))
			for _, f := range []string{"tab-screenshot.png", "tab-console.log", "tab-dom.html"} {
				if fi, err := os.Stat(filepath.Join(dir, f)); assert.NoError(t, err, "artifact %s", f) {
					assert.NotZero(t, fi.Size(), "artifact %s is empty", f)
				}
			}
		})
	}
}
