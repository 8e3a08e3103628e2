package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/posrefund/cloud/e2e/harness"
)

// TestScreenshot regenerates docs/screenshot.png, the README's picture of the page with a completed refund.
// It runs only under `make screenshots` (SCREENSHOTS=1): a picture is documentation, not a check, and
// writing into the source tree does not belong in `make test`. This is the suite's only skip.
func TestScreenshot(t *testing.T) {
	if os.Getenv("SCREENSHOTS") != "1" {
		t.Skip("set SCREENSHOTS=1 (make screenshots) to regenerate docs/screenshot.png")
	}
	p := openPOS(t)
	p.Do("a tidy viewport", chromedp.EmulateViewport(1280, 860))
	p.Type("operator", "cashier-1")
	p.refund("49.99")
	p.waitStatus("approved")
	p.WaitVisible("receipt")
	png := harness.Run(p.Tab, "taking the screenshot", chromedp.FullScreenshot(100))
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(png))
	}
	dir := filepath.Join(env.root, "docs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "screenshot.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
}
