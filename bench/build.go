package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/andybalholm/brotli"

	"github.com/posrefund/cloud/internal/gotool"
)

// wasmSizes are a module's sizes as served: raw, and the precompressed siblings the proxy sends.
type wasmSizes struct {
	Raw, Gzip, Brotli int64
}

// buildMinimalWasm builds ./bench/minwasm with the flags `make wasm` uses for payroc.wasm
// (GOOS=js GOARCH=wasm, -trimpath -ldflags='-s -w') into dir/min.wasm, and compresses it with the same tool
// (internal/cmd/precompress: brotli and gzip at their best levels) into min.wasm.br and min.wasm.gz.
func buildMinimalWasm(ctx context.Context, dir string) error {
	root := moduleRoot()
	out := filepath.Join(dir, "min.wasm")
	build := exec.CommandContext(ctx, gotool.Path(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./bench/minwasm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the minimal wasm: %v\n%s", err, b)
	}
	comp := exec.CommandContext(ctx, gotool.Path(), "run", "./internal/cmd/precompress", out)
	comp.Dir = root
	if b, err := comp.CombinedOutput(); err != nil {
		return fmt.Errorf("compressing the minimal wasm: %v\n%s", err, b)
	}
	return nil
}

// servedSizes reads name and its .br and .gz siblings, and checks that both decompress to exactly name's
// bytes: a stale compressed copy would be served to browsers, which is a bug, not a size.
func servedSizes(name string) (wasmSizes, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return wasmSizes{}, err
	}
	br, err := os.ReadFile(name + ".br")
	if err != nil {
		return wasmSizes{}, err
	}
	gz, err := os.ReadFile(name + ".gz")
	if err != nil {
		return wasmSizes{}, err
	}
	plain, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
	if err != nil || !bytes.Equal(plain, raw) {
		return wasmSizes{}, fmt.Errorf("%s.br is not %s compressed (stale? run make wasm)", name, filepath.Base(name))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return wasmSizes{}, fmt.Errorf("%s.gz: %v", name, err)
	}
	plain, err = io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, raw) {
		return wasmSizes{}, fmt.Errorf("%s.gz is not %s compressed (stale? run make wasm)", name, filepath.Base(name))
	}
	return wasmSizes{Raw: int64(len(raw)), Gzip: int64(len(gz)), Brotli: int64(len(br))}, nil
}

// copyFile copies src to dst (a new file), keeping nothing but the bytes.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
