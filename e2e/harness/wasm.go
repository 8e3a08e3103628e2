package harness

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"

	"github.com/posrefund/cloud/internal/gotool"
)

// ModuleRoot returns the folder holding go.mod, searching up from the working directory (a test runs in its
// package's folder). It returns "" when there is none.
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// BuildWasm does what `make wasm` does, in root (the module folder): builds ./wasm for js/wasm into
// web/payroc.wasm with -trimpath -ldflags='-s -w', copies the toolchain's wasm_exec.js to web/, and writes
// the brotli and gzip copies with internal/cmd/precompress. The build cache makes a repeat run cheap; the
// copies are rewritten only when the wasm changed, so a run never serves a stale .br beside a new .wasm.
func BuildWasm(ctx context.Context, root string) error {
	if root == "" {
		return errors.New("harness: BuildWasm needs the module folder")
	}
	web := filepath.Join(root, "web")
	goCmd := gotool.Path()
	tmp, err := os.CreateTemp(web, ".payroc.wasm.*")
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)

	build := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", tmpName, "./wasm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("harness: building the wasm (GOOS=js GOARCH=wasm go build ./wasm): %v\n%s", err, out)
	}
	fresh, err := os.ReadFile(tmpName)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	wasmPath := filepath.Join(web, "payroc.wasm")
	old, _ := os.ReadFile(wasmPath)
	changed := !bytes.Equal(old, fresh) || !compressedCopyOf(wasmPath+".br", fresh) || !compressedCopyOf(wasmPath+".gz", fresh)
	if changed {
		if err := os.Rename(tmpName, wasmPath); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
	}

	out, err := exec.CommandContext(ctx, goCmd, "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("harness: go env GOROOT: %w", err)
	}
	goroot := string(bytes.TrimSpace(out))
	execJS, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("harness: wasm_exec.js of the toolchain: %w", err)
	}
	if cur, _ := os.ReadFile(filepath.Join(web, "wasm_exec.js")); !bytes.Equal(cur, execJS) {
		if err := os.WriteFile(filepath.Join(web, "wasm_exec.js"), execJS, 0o644); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
	}

	if changed {
		pc := exec.CommandContext(ctx, goCmd, "run", "./internal/cmd/precompress", wasmPath)
		pc.Dir = root
		if out, err := pc.CombinedOutput(); err != nil {
			return fmt.Errorf("harness: precompressing the wasm: %v\n%s", err, out)
		}
	}

	return nil
}

// compressedCopyOf reports whether the .br or .gz file at name decompresses to want: a stale copy beside a
// new payroc.wasm would be served to browsers asking for brotli.
func compressedCopyOf(name string, want []byte) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	var r io.Reader
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return false
		}
		r = zr
	} else {
		r = brotli.NewReader(f)
	}
	got, err := io.ReadAll(io.LimitReader(r, int64(len(want))+1))
	return err == nil && bytes.Equal(got, want)
}
