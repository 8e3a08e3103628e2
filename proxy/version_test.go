package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/gotool"
)

// The version set with -ldflags (as `make build` and `make run` do) is the one /healthz reports.
func TestProxyHealthzReportsTheLinkedVersion(t *testing.T) {
	const v = "9.8.7-test.1"
	bin := filepath.Join(t.TempDir(), "proxy")
	out, err := exec.Command(gotool.Path(), "build", "-ldflags=-X main.version="+v, "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-web", t.TempDir())
	cmd.Env = []string{"PATH=/usr/bin:/bin"} // simulator mode, no secrets from the test's environment
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	require.NotNil(t, m, "start line %q", line)

	res, err := http.Get(m[1] + "/healthz")
	require.NoError(t, err)
	defer res.Body.Close()
	var health struct{ Status, Version string }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&health))
	assert.Equal(t, "ok", health.Status)
	assert.Equal(t, v, health.Version)
}

// The Makefile hands one VERSION to the proxy's -ldflags and to the npm package, so /healthz and
// package.json say the same.
func TestMakefileGivesProxyAndPackageOneVersion(t *testing.T) {
	_, err := exec.LookPath("make")
	require.NoError(t, err, "make is not installed: %v", err)
	for _, tc := range []struct{ name, arg, want string }{
		{"given", "VERSION=2.3.4-rc.1", "2.3.4-rc.1"},
		{"from git", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"-n", "-C", "..", "build", "package"}
			if tc.arg != "" {
				args = append(args, tc.arg)
			}
			out, err := exec.Command("make", args...).CombinedOutput()
			require.NoError(t, err, "%s", out)
			ld := regexp.MustCompile(`-X main\.version=(\S+?)'`).FindSubmatch(out)
			pkg := regexp.MustCompile(`npmpackage -version '(\S+?)'`).FindSubmatch(out)
			require.NotNil(t, ld, "no -ldflags version in:\n%s", out)
			require.NotNil(t, pkg, "no package version in:\n%s", out)
			assert.Equal(t, string(ld[1]), string(pkg[1]), "the proxy and the package must carry one version")
			if tc.want != "" {
				assert.Equal(t, tc.want, string(pkg[1]))
			} else {
				assert.Regexp(t, `^(\d+\.\d+\.\d+\S*|0\.0\.0-dev\.g[0-9a-f]+(-dirty)?)$`, string(pkg[1]))
			}
		})
	}
}
