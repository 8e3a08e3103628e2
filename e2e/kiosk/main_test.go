// Package kiosk runs examples/kiosk end to end: the npm package built and packed as `make package` and
// `npm pack` do, installed from its tarball into the kiosk app, the app served with its stand-in back office
// on another origin (http://localhost:PORT) than the proxy (http://127.0.0.1:PORT, started with
// -allow-origin for the kiosk), in real headless Chromium.
package kiosk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/examples/kiosk/backoffice"
	"github.com/posrefund/cloud/internal/gotool"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// tokenTTL is the back office's lane-token lifetime. The proxy's clock (skew) jumps past it to expire one.
const tokenTTL = time.Minute

var env struct {
	stack   *harness.Stack
	browser *harness.Browser
	kiosk   *backoffice.BackOffice
	// kioskURL is the kiosk's origin (allowed by the proxy); otherURL an app's origin that is not.
	kioskURL, otherURL string
	// skew moves the proxy's clock forward (nanoseconds).
	skew atomic.Int64
	err  error
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "kiosk-e2e-")
	if err != nil {
		env.err = err
	} else {
		defer os.RemoveAll(tmp)
		start := time.Now()
		var stop func()
		stop, env.err = setup(tmp)
		defer stop()
		if env.err == nil {
			fmt.Fprintf(os.Stderr, "e2e/kiosk: package packed and installed, kiosk %s, proxy %s, up in %v\n",
				env.kioskURL, env.stack.Proxy.URL, time.Since(start).Round(time.Millisecond))
		}
	}
	return m.Run()
}

// setup builds and installs the package, starts the simulator and proxy, the kiosk's back office on
// localhost, another app on a third origin, and Chromium. stop undoes whatever was started.
func setup(tmp string) (stop func(), err error) {
	var undo []func()
	stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	root := harness.ModuleRoot()
	if root == "" {
		return stop, errors.New("e2e/kiosk: no go.mod above the working directory")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := harness.BuildWasm(ctx, root); err != nil {
		return stop, err
	}
	kioskDir, err := installKiosk(ctx, root, tmp)
	if err != nil {
		return stop, err
	}

	kioskL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return stop, err
	}
	otherL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		kioskL.Close()
		return stop, err
	}
	// localhost and 127.0.0.1 are different sites to the browser, so nothing here is same-origin by accident.
	env.kioskURL = "http://localhost:" + port(kioskL)
	env.otherURL = "http://127.0.0.1:" + port(otherL)

	stack, err := harness.StartStack(harness.StackConfig{
		WebDir: filepath.Join(root, "web"),
		Sim:    sim.Config{ExtraDevices: 10},
		Proxy: func(c *server.Config) {
			c.AllowOrigins = []string{env.kioskURL}
			c.Now = func() time.Time { return time.Now().Add(time.Duration(env.skew.Load())) }
		},
	})
	if err != nil {
		kioskL.Close()
		otherL.Close()
		return stop, err
	}
	env.stack = stack
	undo = append(undo, stack.Close)

	var serials []string
	for _, d := range stack.Sim.Devices() {
		serials = append(serials, d.SerialNumber)
	}
	for _, s := range []struct {
		l    net.Listener
		kept **backoffice.BackOffice
	}{{kioskL, &env.kiosk}, {otherL, nil}} {
		bo, err := backoffice.New(backoffice.Config{ProxyURL: stack.Proxy.URL, AdminKey: stack.AdminKey,
			Devices: serials, MaxAmount: 100000, TTL: tokenTTL, Dir: kioskDir})
		if err != nil {
			return stop, err
		}
		if s.kept != nil {
			*s.kept = bo
		}
		srv := &http.Server{Handler: bo, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(s.l) }()
		undo = append(undo, func() { _ = srv.Close() })
	}

	b, err := harness.StartBrowser(harness.BrowserConfig{})
	if err != nil {
		return stop, err
	}
	env.browser = b
	undo = append(undo, b.Close)
	return stop, nil
}

// installKiosk does what a kiosk developer does: builds the package (`make package`), packs it (`npm pack`),
// and installs the tarball into a copy of examples/kiosk. It returns the kiosk's folder.
func installKiosk(ctx context.Context, root, tmp string) (string, error) {
	dist := filepath.Join(tmp, "dist")
	if _, err := command(ctx, root, gotool.Path(), "run", "./internal/cmd/npmpackage", "-version", "0.0.0-e2e", "-web", "web", "-out", dist); err != nil {
		return "", err
	}
	out, err := command(ctx, tmp, "npm", "pack", dist, "--pack-destination", tmp)
	if err != nil {
		return "", err
	}
	lines := strings.Fields(out)
	tarball := filepath.Join(tmp, lines[len(lines)-1])
	kioskDir := filepath.Join(tmp, "kiosk")
	if err := os.MkdirAll(kioskDir, 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"index.html", "kiosk.js", "package.json"} {
		b, err := os.ReadFile(filepath.Join(root, "examples", "kiosk", f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(kioskDir, f), b, 0o644); err != nil {
			return "", err
		}
	}
	if _, err := command(ctx, kioskDir, "npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefer-offline", tarball); err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(kioskDir, "node_modules", "@posrefund", "payroc", "payroc.wasm")); err != nil {
		return "", fmt.Errorf("e2e/kiosk: the package did not install from %s: %w", tarball, err)
	}
	return kioskDir, nil
}

func command(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("e2e/kiosk: %s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func port(l net.Listener) string { return fmt.Sprint(l.Addr().(*net.TCPAddr).Port) }

// setupOrFail fails the test when TestMain could not set up (a missing Chromium or npm fails, never skips).
func setupOrFail(t *testing.T) {
	t.Helper()
	if env.err != nil {
		t.Fatalf("kiosk end-to-end setup failed: %v", env.err)
	}
}
