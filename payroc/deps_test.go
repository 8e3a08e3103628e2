//go:build !js

package payroc

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser build must not carry net/http (about a megabyte of brotli'd wasm): the package speaks through
// Doer, and its net/http adapter is host-only. This guards the seam against a stray import.
func TestWasmBuildHasNoNetHTTP(t *testing.T) {
	for _, pkg := range []string{".", "../wasm"} {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go list -deps %s: %v\n%s", pkg, err, out)
		for _, dep := range strings.Fields(string(out)) {
			assert.NotEqual(t, "net/http", dep, "the js/wasm build of %s imports %s", pkg, dep)
			assert.NotEqual(t, "net", dep, "the js/wasm build of %s imports %s", pkg, dep)
			assert.False(t, strings.HasPrefix(dep, "net/http/"), "the js/wasm build of %s imports %s", pkg, dep)
		}
	}
}
