package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultChromium is where Debian's chromium package puts the browser (`make test` installs it when missing).
const DefaultChromium = "/usr/bin/chromium"

// BrowserConfig tunes StartBrowser. Its zero value starts DefaultChromium (or $CHROMIUM) headless.
type BrowserConfig struct {
	// ExecPath is the browser binary ("" means $CHROMIUM, else DefaultChromium).
	ExecPath string
	// StartTimeout bounds the first start of the browser (0: 60s; a cold start on a busy 2-core machine can
	// take several seconds).
	StartTimeout time.Duration
	// Options are extra chromedp allocator options, appended after the harness's own.
	Options []chromedp.ExecAllocatorOption
	// ArtifactsDir is where failing tests of this browser's tabs leave their screenshot, console and DOM
	// ("" means ArtifactsDir()).
	ArtifactsDir string
}

// Browser is one running headless Chromium. Tabs made with NewTab share it. It is safe for concurrent use.
type Browser struct {
	ctx          context.Context // a chromedp context that has run once: the browser is up
	cancel       context.CancelFunc
	cancelAlloc  context.CancelFunc
	artifactsDir string
}

// StartBrowser starts Chromium headless and waits until it answers. It fails (never skips) when the binary is
// missing or the browser cannot start, naming the command that installs it.
func StartBrowser(cfg BrowserConfig) (*Browser, error) {
	path := cfg.ExecPath
	if path == "" {
		path = os.Getenv("CHROMIUM")
	}
	if path == "" {
		path = DefaultChromium
	}
	if _, err := exec.LookPath(path); err != nil {
		return nil, fmt.Errorf("chromium not found at %s (%v): run `make chromium` or `sudo apt-get install -y chromium`", path, err)
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		// The machine has no network: keep Chromium from trying to phone home (and from logging about it).
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, cfg.Options...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)

	// The first Run binds the browser's life to ctx, so it must have no deadline: the timeout goes around it.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			cancel()
			cancelAlloc()
			return nil, fmt.Errorf("starting chromium (%s): %w", path, err)
		}
	case <-time.After(cfg.StartTimeout):
		cancel()
		cancelAlloc()
		return nil, fmt.Errorf("starting chromium (%s): no answer within %v", path, cfg.StartTimeout)
	}
	return &Browser{ctx: ctx, cancel: cancel, cancelAlloc: cancelAlloc, artifactsDir: cfg.ArtifactsDir}, nil
}

// Context returns the browser's chromedp context, for users who want chromedp.NewContext tabs of their own.
func (b *Browser) Context() context.Context { return b.ctx }

// Close stops the browser and waits for it to exit.
func (b *Browser) Close() {
	if b == nil {
		return
	}
	b.cancel()
	b.cancelAlloc()
}

// Alive reports an error when the browser process is gone (crashed or killed).
func (b *Browser) Alive() error {
	if err := b.ctx.Err(); err != nil {
		return errors.New("browser stopped: " + err.Error())
	}
	return nil
}
