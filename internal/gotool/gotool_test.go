package gotool

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPathRunsGo(t *testing.T) {
	out, err := exec.Command(Path(), "env", "GOVERSION").Output()
	require.NoError(t, err, "running %s env GOVERSION", Path())
	require.Regexp(t, `^go1\.`, string(out))
}

func TestPathFallsBackToGOROOT(t *testing.T) {
	t.Setenv("PATH", "")
	t.Setenv("GOROOT", "/opt/go")
	require.Equal(t, filepath.Join("/opt/go", "bin", "go"), Path())
}
