package bench

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chromedp/chromedp"
)

// assets are the benchmark pages (P2, P6). They are served by the real proxy from a temporary web folder
// beside the real payroc.js, wasm_exec.js and payroc.wasm, under the proxy's own CSP (no inline script).
//
//go:embed assets
var assets embed.FS

// assembleWeb fills dir with the module's web/ files, the minimal wasm from minDir, and the benchmark pages.
// Files are copied in name order, so payroc.wasm.br is never older than payroc.wasm (the proxy serves a
// precompressed copy only when it is not).
func assembleWeb(dir, minDir string) error {
	web := filepath.Join(moduleRoot(), "web")
	entries, err := os.ReadDir(web)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if err := copyFile(filepath.Join(web, n), filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	for _, n := range []string{"min.wasm", "min.wasm.br", "min.wasm.gz"} {
		if err := copyFile(filepath.Join(minDir, n), filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	})
}

// pageTime polls the page for window.benchLoaded (performance.now() when the module was ready) and fails with
// window.benchError when the page reports one.
func pageTime(ctx context.Context, d time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(d)
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.benchError ? {error: window.benchError} : (window.benchLoaded ?? null)`))
		if err != nil {
			return 0, err
		}
		switch x := v.(type) {
		case float64:
			return time.Duration(x * float64(time.Millisecond)), nil
		case map[string]any:
			return 0, fmt.Errorf("page error: %v", x["error"])
		}
		if time.Now().After(deadline) {
			return 0, errors.New("the page never said it was loaded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
