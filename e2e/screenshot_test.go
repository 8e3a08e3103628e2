package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// TestScreenshot regenerates the gallery of the page under docs/screenshots/ (and docs/screenshot.png, the
// README's first picture). It runs only under `make screenshots` (SCREENSHOTS=1): a picture is documentation,
// not a check, and writing into the source tree does not belong in `make test`. This is the suite's only skip.
func TestScreenshot(t *testing.T) {
	if os.Getenv("SCREENSHOTS") != "1" {
		t.Skip("set SCREENSHOTS=1 (make screenshots) to regenerate the gallery under docs/")
	}
	setupOrFail(t)
	// A stack of its own whose simulated devices wait for a card for minutes: pictures take their time.
	stack, err := harness.StartStack(harness.StackConfig{
		WebDir: filepath.Join(env.root, "web"),
		Sim:    sim.Config{Timeout: 5 * time.Minute, ExtraDevices: extraDevices},
		Proxy:  func(c *server.Config) { c.MerchantName, c.MerchantAddress = merchantName, merchantAddress },
	})
	require.NoError(t, err)
	t.Cleanup(stack.Close)
	open := func(opts ...posOption) *pos { return openPOS(t, append(opts, onProxy(stack.Proxy))...) }
	dir := filepath.Join(env.root, "docs", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	shoot := func(p *pos, name string, full bool) {
		t.Helper()
		var png []byte
		if full {
			png = harness.Run(p.Tab, "taking "+name, chromedp.FullScreenshot(100))
		} else {
			png = harness.Run(p.Tab, "taking "+name, chromedp.CaptureScreenshot())
		}
		require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "%s is not a PNG", name)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
		t.Logf("wrote docs/screenshots/%s.png (%d bytes)", name, len(png))
	}
	desktop := func(p *pos) { p.viewport(1280, 860) }
	// Stable pictures: no animation, no blinking caret.
	calm := func(p *pos) {
		p.Do("reduced motion", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
			return err
		}))
	}
	shot := shoot
	shoot = func(p *pos, name string, full bool) {
		t.Helper()
		p.exec(`document.activeElement?.blur()`)
		shot(p, name, full)
	}

	p := open()
	desktop(p)
	calm(p)
	p.Type("operator", "cashier-1")
	p.Type("amount", "49.99")
	shoot(p, "idle", false)

	p.Type("amount", "1,000")
	shoot(p, "ambiguous", false)

	p.Type("amount", "5000.00") // over the lane's maximum (1,000.00): the preview says so, the button waits
	p.WaitText("amount-preview", "most")
	shoot(p, "over-maximum", false)

	p.Type("amount", "250.00")
	p.Click("refund-button")
	p.waitPhase("confirming")
	shoot(p, "confirm", false)
	p.Click("confirm-back")

	p.Type("amount", "49.03")
	p.Click("refund-button")
	p.waitStatus("inProgress")
	id, _ := p.waitInstruction()
	p.WaitText("elapsed", "0:01")
	shoot(p, "in-progress", false)

	p.offline(true)
	p.WaitFor("the connection indicator", `document.querySelector('[data-testid="connection"]').dataset.state === "retrying"`)
	p.WaitText("connection", "(0:02)")
	shoot(p, "connection-lost", false)
	p.offline(false)
	p.WaitFor("the connection back", `document.querySelector('[data-testid="connection"]').dataset.state === "online"`)

	p.Reload()
	p.WaitReady()
	calm(p)
	p.waitStatus("inProgress")
	shoot(p, "recovered", false)
	require.NoError(t, stack.Sim.Finish(id, payroc.StatusCompleted))
	p.waitStatus("approved")
	p.Type("amount", "49.99")
	p.Click("refund-button")
	p.WaitFor("the 49.99 refund", `document.querySelector('[data-testid="status"]').dataset.status === "approved" &&
		document.querySelector('[data-testid="progress-amount"]').textContent === "$49.99"`)
	// The approved receipt is the README's first picture, docs/screenshot.png, and not a gallery copy of it.
	png := harness.Run(p.Tab, "the README's picture", chromedp.FullScreenshot(100))
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")), "the README's picture is not a PNG")
	require.NoError(t, os.WriteFile(filepath.Join(env.root, "docs", "screenshot.png"), png, 0o644))

	p.viewport(302, 1100) // 80 mm at 96 dpi
	p.printMedia(true)
	p.exec(`document.body.dataset.print = '80mm'`)
	shoot(p, "print-80mm", true)
	p.printMedia(false)
	desktop(p)

	p.Type("amount", "49.99") // the same amount on the same reader again: asked first
	p.Click("refund-button")
	p.waitPhase("duplicate")
	shoot(p, "duplicate", false)
	p.Click("duplicate-back")

	p.refund("10.01")
	p.waitStatus("declined")
	shoot(p, "declined", true)

	p.refund("12.05")
	p.waitStatus("inProgress")
	p.WaitEnabled("cancel-button")
	p.Click("cancel-button")
	p.waitStatus("approved")
	shoot(p, "cancel-too-late", true)

	for _, size := range []struct {
		name string
		w, h int64
	}{{"tablet-in-progress", 768, 1024}, {"phone-in-progress", 390, 844}} {
		q := open()
		q.viewport(size.w, size.h)
		calm(q)
		q.refund("33.03")
		q.waitStatus("inProgress")
		qid, _ := q.waitInstruction()
		q.WaitVisible("elapsed")
		shoot(q, size.name, false)
		if size.w > 400 {
			require.NoError(t, stack.Sim.Finish(qid, payroc.StatusCanceled))
			continue
		}
		q.WaitEnabled("cancel-button")
		q.Click("cancel-button") // the phone after Cancel: the outcome in view
		q.waitStatus("canceled")
		shoot(q, "phone-canceled", false)
	}

	f := open(withQuery("lang=fr"))
	desktop(f)
	calm(f)
	f.Type("operator", "caissier-1")
	f.refund("49,99")
	f.waitStatus("approved")
	shoot(f, "french", true)
}
