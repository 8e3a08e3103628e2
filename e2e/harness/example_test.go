package harness_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"
	"time"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/proxy/server"
)

// Everything a merchant's own end-to-end test needs, started by hand: the wasm built, the simulator and the
// proxy on loopback, Chromium, and a lane token that signs the page in (open URL/#token=… in a Browser.NewTab
// from a test). Compiled, not run: it needs Chromium.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := harness.ModuleRoot()
	if err := harness.BuildWasm(ctx, root); err != nil {
		log.Fatal(err)
	}
	stack, err := harness.StartStack(harness.StackConfig{WebDir: filepath.Join(root, "web")})
	if err != nil {
		log.Fatal(err)
	}
	defer stack.Close()
	browser, err := harness.StartBrowser(harness.BrowserConfig{})
	if err != nil {
		log.Fatal(err) // never skip: a missing browser is a failure
	}
	defer browser.Close()
	tok, err := stack.Proxy.LaneToken(ctx, server.TokenRequest{Devices: []string{"1850010868"}, MaxAmount: 100000, Lane: "front-1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open", stack.Proxy.URL+"/#token="+tok.Token)
}
