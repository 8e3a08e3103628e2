package bench

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkP1WasmSize prints payroc.wasm's raw, gzip and brotli sizes (as `make wasm` left them in web/, which
// is what the proxy serves) beside a minimal Go wasm built with the same flags and compressed by the same tool.
// Target: brotli ≤ 1,000,000 bytes.
func BenchmarkP1WasmSize(b *testing.B) {
	web := filepath.Join(moduleRoot(), "web")
	got, err := servedSizes(filepath.Join(web, "payroc.wasm"))
	require.NoError(b, err, "payroc.wasm: %v (run make wasm)", err)
	min, err := servedSizes(filepath.Join(shared.minimalWasm(b), "min.wasm"))
	require.NoError(b, err)
	const target = 1_000_000
	figure("P1 wasm size", "payroc.wasm raw %s, gzip %s, brotli %s; minimal Go wasm (syscall/js+encoding/json, same flags) "+
		"raw %s, gzip %s, brotli %s; payroc/minimal raw %s gzip %s brotli %s; target brotli<=%s: %s",
		fmtBytes(got.Raw), fmtBytes(got.Gzip), fmtBytes(got.Brotli),
		fmtBytes(min.Raw), fmtBytes(min.Gzip), fmtBytes(min.Brotli),
		fmtRatio(ratio(got.Raw, min.Raw)), fmtRatio(ratio(got.Gzip, min.Gzip)), fmtRatio(ratio(got.Brotli, min.Brotli)),
		fmtBytes(target), verdict(got.Brotli <= target))
}
