package harness

import (
	"context"

	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	artifactsOnce sync.Once
	artifactsRoot string
	artifactsErr  error
)

// ArtifactsDir returns the folder failures write into: $E2E_ARTIFACTS when set (CI keeps it), else a fresh
// temporary folder made once per test binary and left in place for a person to look at.
func ArtifactsDir() (string, error) {
	artifactsOnce.Do(func() {
		if d := os.Getenv("E2E_ARTIFACTS"); d != "" {
			artifactsRoot, artifactsErr = d, os.MkdirAll(d, 0o755)
			return
		}
		artifactsRoot, artifactsErr = os.MkdirTemp("", "e2e-artifacts-")
	})
	return artifactsRoot, artifactsErr
}

// SaveArtifacts writes a screenshot, the console log and the DOM of the tab into
// <artifacts folder>/<test name>/<tab label>-* (BrowserConfig.ArtifactsDir, else ArtifactsDir()) and returns that folder ("" when nothing could be written). It is
// called by Fatalf/Errorf and when a test fails; a second call in one test returns the first folder.
func (tab *Tab) SaveArtifacts() string {
	tab.mu.Lock()
	saved := tab.saved
	tab.mu.Unlock()
	if saved != "" {
		return saved
	}
	root, err := tab.b.artifactsDir, error(nil)
	if root == "" {
		root, err = ArtifactsDir()
	}
	if err != nil {
		tab.t.Logf("harness: no artifacts folder: %v", err)
		return ""
	}
	dir := filepath.Join(root, sanitize(tab.t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tab.t.Logf("harness: %v", err)
		return ""
	}
	prefix := filepath.Join(dir, sanitize(tab.label)+"-")

	var log strings.Builder
	for _, l := range tab.Console() {
		log.WriteString(l.String())
		log.WriteByte('\n')
	}
	if err := os.WriteFile(prefix+"console.log", []byte(log.String()), 0o644); err != nil {
		tab.t.Logf("harness: %v", err)
	}

	// A tab can be stuck (a dialog, a busy page): give each capture a short deadline of its own.
	ctx, cancel := context.WithTimeout(tab.ctx, 10*time.Second)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	cancel()
	if err == nil {
		err = os.WriteFile(prefix+"screenshot.png", png, 0o644)
	}
	if err != nil {
		tab.t.Logf("harness: no screenshot: %v", err)
	}
	ctx, cancel = context.WithTimeout(tab.ctx, 5*time.Second)
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	cancel()
	if err == nil {
		err = os.WriteFile(prefix+"dom.html", []byte(html), 0o644)
	}
	if err != nil {
		tab.t.Logf("harness: no DOM dump: %v", err)
	}

	tab.mu.Lock()
	tab.saved = dir
	tab.mu.Unlock()
	return dir
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}
