package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// extraDevices is how many simulated devices beyond the two documented ones the suite uses: every test takes
// devices of its own, so parallel tests never meet a device another test keeps busy.
const extraDevices = 900

// What the suite's proxies print on receipts (-merchant-name, -merchant-address).
const (
	merchantName    = "Corner Hardware"
	merchantAddress = "100 Main Street, Springfield"
)

// env is what TestMain starts once for the package. When setup failed, err says why and every test fails
// with it (Chromium missing is a failure, never a skip).
var env struct {
	root    string
	stack   *harness.Stack
	browser *harness.Browser
	err     error
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	start := time.Now()
	env.root = harness.ModuleRoot()
	env.err = setup()
	if env.err == nil {
		fmt.Fprintf(os.Stderr, "e2e: wasm built, simulator %s, proxy %s, chromium up in %v\n",
			env.stack.SimURL, env.stack.Proxy.URL, time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	if env.browser != nil {
		env.browser.Close()
	}
	if env.stack != nil {
		env.stack.Close()
	}
	return code
}

func setup() error {
	if env.root == "" {
		return fmt.Errorf("e2e: no go.mod above %s", mustWd())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := harness.BuildWasm(ctx, env.root); err != nil {
		return err
	}
	stack, err := harness.StartStack(harness.StackConfig{
		WebDir: filepath.Join(env.root, "web"),
		Sim: sim.Config{
			// A key of this run only: finding it anywhere in the browser is a leak, never a coincidence.
			APIKey:       "e2e-api-key-" + fmt.Sprint(time.Now().UnixNano()),
			ExtraDevices: extraDevices,
		},
		Proxy: func(c *server.Config) {
			c.MerchantName, c.MerchantAddress = merchantName, merchantAddress
		},
	})
	if err != nil {
		return err
	}
	env.stack = stack
	b, err := harness.StartBrowser(harness.BrowserConfig{})
	if err != nil {
		return err
	}
	env.browser = b
	return nil
}

func mustWd() string {
	wd, _ := os.Getwd()
	return wd
}

// setupOrFail fails the test when TestMain could not build the wasm, start the stack or start Chromium.
func setupOrFail(t *testing.T) {
	t.Helper()
	require.NoError(t, env.err, "end-to-end setup failed")
}
