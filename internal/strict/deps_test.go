package strict_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The browser module stays within its size budget only without json v2: strict decoding is the servers'
// job, and this keeps it so against a stray import.
func TestWasmBuildHasNoJSONv2(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "../../wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go list -deps: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/posrefund/cloud/wasm/pending", "the listing must be the module's")
	for _, dep := range deps {
		require.False(t, strings.HasPrefix(dep, "github.com/go-json-experiment/json"), "the js/wasm build imports %s", dep)
		require.NotEqual(t, "github.com/posrefund/cloud/internal/strict", dep, "the js/wasm build imports internal/strict")
	}
}
