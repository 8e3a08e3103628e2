package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webDir writes a web directory as `make wasm` leaves it (with the page's own files, which stay out).
func webDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range append(files, "index.html", "app.js") {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("content of "+f), 0o644))
	}
	later := time.Now().Add(time.Second)
	for _, f := range []string{"payroc.wasm.br", "payroc.wasm.gz"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, f), later, later))
	}
	return dir
}

func TestBuildWritesThePackage(t *testing.T) {
	web := webDir(t)
	out := filepath.Join(t.TempDir(), "dist")
	require.NoError(t, build(web, out, "v1.4.0-3-gabc1234"))

	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, append(files, "README.md", "package.json"), names, "exactly the module's files")
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err)
		assert.Equal(t, "content of "+f, string(b), "%s is copied unchanged", f)
	}

	var pj struct {
		Name    string                     `json:"name"`
		Version string                     `json:"version"`
		Type    string                     `json:"type"`
		Types   string                     `json:"types"`
		Files   []string                   `json:"files"`
		Exports map[string]json.RawMessage `json:"exports"`
	}
	b, err := os.ReadFile(filepath.Join(out, "package.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pj))
	assert.Equal(t, Name, pj.Name)
	assert.Equal(t, "1.4.0-3-gabc1234", pj.Version, "the git tag's version without its v")
	assert.Equal(t, "module", pj.Type)
	assert.Equal(t, "./payroc.d.ts", pj.Types)
	assert.ElementsMatch(t, append(files, "README.md"), pj.Files)
	assert.JSONEq(t, `{"types":"./payroc.d.ts","default":"./payroc.js"}`, string(pj.Exports["."]),
		"the main export must name its types first (TypeScript reads the first matching condition)")
	assert.JSONEq(t, `"./payroc.wasm"`, string(pj.Exports["./payroc.wasm"]))
	assert.JSONEq(t, `"./wasm_exec.js"`, string(pj.Exports["./wasm_exec.js"]))

	readme, err := os.ReadFile(filepath.Join(out, "README.md"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "# @posrefund/payroc 1.4.0-3-gabc1234")
	assert.NotContains(t, string(readme), "{{", "every placeholder is filled in")

	// Built again over itself (and an npm pack tarball left there): the same package, nothing stale.
	require.NoError(t, os.WriteFile(filepath.Join(out, "posrefund-payroc-1.4.0.tgz"), []byte("old"), 0o644))
	require.NoError(t, build(web, out, "1.5.0"))
	b, _ = os.ReadFile(filepath.Join(out, "package.json"))
	assert.Contains(t, string(b), `"version": "1.5.0"`)
	assert.NoFileExists(t, filepath.Join(out, "posrefund-payroc-1.4.0.tgz"))
}

func TestBuildRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		setup   func(t *testing.T, web, out string)
		want    string
	}{
		{name: "no version", version: "", want: "not a semantic version"},
		{name: "not semver", version: "1.2", want: "not a semantic version"},
		{name: "leading zero", version: "01.2.3", want: "not a semantic version"},
		{name: "build metadata", version: "1.2.3+abc", want: "build metadata"},
		{name: "wasm not built", version: "1.2.3", setup: func(t *testing.T, web, _ string) {
			require.NoError(t, os.Remove(filepath.Join(web, "payroc.wasm")))
		}, want: "make wasm"},
		{name: "runtime missing", version: "1.2.3", setup: func(t *testing.T, web, _ string) {
			require.NoError(t, os.Remove(filepath.Join(web, "wasm_exec.js")))
		}, want: "make wasm"},
		{name: "stale brotli copy", version: "1.2.3", setup: func(t *testing.T, web, _ string) {
			old := time.Now().Add(-time.Hour)
			require.NoError(t, os.Chtimes(filepath.Join(web, "payroc.wasm.br"), old, old))
		}, want: "older than payroc.wasm"},
		{name: "out holds other files", version: "1.2.3", setup: func(t *testing.T, _, out string) {
			require.NoError(t, os.MkdirAll(out, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644))
		}, want: "not part of the package"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			web := webDir(t)
			out := filepath.Join(t.TempDir(), "dist")
			if tc.setup != nil {
				tc.setup(t, web, out)
			}
			err := build(web, out, tc.version)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.name == "out holds other files" {
				assert.FileExists(t, filepath.Join(out, "notes.txt"), "a folder of the user's is never wiped")
			}
		})
	}
}
