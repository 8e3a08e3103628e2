// Package ts holds the TypeScript example; this test is how `make test` type-checks it.
package ts

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tsc runs the pinned TypeScript compiler (examples/ts/node_modules, from package-lock.json) with --strict
// --noEmit on a project file, and returns its output and whether it passed.
func tsc(t *testing.T, project string) (string, bool) {
	t.Helper()
	bin := filepath.Join("node_modules", "typescript", "bin", "tsc")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("TypeScript is not installed here (%v): run `make examples` (npm ci in examples/ts)", err)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "@posrefund", "payroc", "payroc.d.ts")); err != nil {
		t.Fatalf("the package is not built (%v): run `make package examples`", err)
	}
	out, err := exec.Command("node", bin, "--strict", "--noEmit", "--pretty", "false", "-p", project).CombinedOutput()
	if err != nil {
		if _, failed := err.(*exec.ExitError); !failed {
			t.Fatalf("running tsc: %v", err)
		}
	}
	return string(out), err == nil
}

func TestTypeScriptConsumerTypeChecks(t *testing.T) {
	t.Parallel()
	out, ok := tsc(t, "tsconfig.json")
	assert.True(t, ok, "src/ must type-check against the package's payroc.d.ts:\n%s", out)
}

var (
	expectMark = regexp.MustCompile(`//\s*@expect\s+(TS\d+)`)
	errorLine  = regexp.MustCompile(`^(.+?)\((\d+),\d+\): error (TS\d+):`)
)

// The check can fail: every deliberate mistake in fixtures/type-errors.ts is refused, on its line, with the
// error its marker names, and nothing else is.
func TestTypeScriptCheckRefusesTypeErrors(t *testing.T) {
	t.Parallel()
	const fixture = "fixtures/type-errors.ts"
	f, err := os.Open(fixture)
	require.NoError(t, err)
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if m := expectMark.FindStringSubmatch(sc.Text()); m != nil {
			want = append(want, fixture+":"+strconv.Itoa(n)+":"+m[1])
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, want, "the fixture marks no expected error")

	out, ok := tsc(t, "tsconfig.fixtures.json")
	require.False(t, ok, "tsc passed a file full of type errors: the check cannot fail\n%s", out)
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if m := errorLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			got = append(got, filepath.ToSlash(m[1])+":"+m[2]+":"+m[3])
		}
	}
	assert.ElementsMatch(t, want, got, "tsc output:\n%s", out)
}
