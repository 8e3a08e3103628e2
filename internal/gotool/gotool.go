// Package gotool finds the go command for the parts of the project that build things at test time (the
// end-to-end harness builds the wasm, the benchmarks build a minimal module to compare sizes).
package gotool

import (
	"os"
	"os/exec"
	"path/filepath"
)

// Path is the go command: the one on PATH, else $GOROOT/bin/go, else plain "go" (so the error names it).
// runtime.GOROOT is deprecated: the root a test binary was built with says nothing about this machine.
func Path() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}
