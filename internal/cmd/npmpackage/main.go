// Command npmpackage writes the npm package of the browser module (`make package`): payroc.js, payroc.d.ts,
// payroc.wasm with its .br and .gz copies and wasm_exec.js, all from the web directory that `make wasm`
// filled (so wasm_exec.js is the one of the toolchain that built the wasm), plus a README for JavaScript users
// and a package.json carrying the project's version.
//
//	npmpackage -version 1.2.3 [-web web] [-out dist]
//
// `npm pack dist` then makes the tarball. The version is the one the proxy reports at /healthz: the Makefile
// derives both from the git tag (or takes VERSION=…).
package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Name is the package's name on npm.
const Name = "@posrefund/payroc"

//go:embed package.README.md
var readme string

// files are copied from the web directory, in this order.
var files = []string{"payroc.js", "payroc.d.ts", "payroc.wasm", "payroc.wasm.br", "payroc.wasm.gz", "wasm_exec.js"}

func main() {
	version := flag.String("version", "", "the package `VERSION` (semver; a leading v is dropped), e.g. 1.2.3")
	web := flag.String("web", "web", "the web `DIR` that `make wasm` filled")
	out := flag.String("out", "dist", "the package `DIR` to (re)write")
	flag.Parse()
	if err := build(*web, *out, *version); err != nil {
		fmt.Fprintln(os.Stderr, "npmpackage:", err)
		os.Exit(1)
	}
	fmt.Printf("%s@%s in %s (npm pack %s makes the tarball)\n", Name, strings.TrimPrefix(*version, "v"), *out, *out)
}

// semver is Semantic Versioning 2.0.0's own pattern.
var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// build checks the inputs, then writes out afresh.
func build(web, out, version string) error {
	version = strings.TrimPrefix(version, "v")
	if !semver.MatchString(version) {
		return fmt.Errorf("-version %q is not a semantic version such as 1.2.3 or 0.0.0-dev.gabc1234", version)
	}
	if strings.Contains(version, "+") {
		return fmt.Errorf("-version %q: npm drops build metadata (+…), so the package and /healthz would differ; use a pre-release (-…)", version)
	}
	wasm, err := os.Stat(filepath.Join(web, "payroc.wasm"))
	if err != nil {
		return fmt.Errorf("%s: run `make wasm` first", err)
	}
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(web, f))
		if err != nil {
			return fmt.Errorf("%s: run `make wasm` first", err)
		}
		if strings.HasPrefix(f, "payroc.wasm.") && fi.ModTime().Before(wasm.ModTime()) {
			return fmt.Errorf("%s is older than payroc.wasm: run `make wasm` to precompress it again", filepath.Join(web, f))
		}
	}
	if err := clean(out); err != nil {
		return err
	}
	for _, f := range files {
		if err := copyFile(filepath.Join(web, f), filepath.Join(out, f)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(out, "README.md"), []byte(strings.ReplaceAll(readme, "{{VERSION}}", version)), 0o644); err != nil {
		return err
	}
	pj, err := json.MarshalIndent(manifest(version), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "package.json"), append(pj, '\n'), 0o644)
}

// manifest is the package.json. The "." export is the module with its types; the wasm and wasm_exec.js are
// exported too, for apps and bundlers that copy them by name. "files" lists exactly what is shipped.
func manifest(version string) map[string]any {
	module := map[string]string{"types": "./payroc.d.ts", "default": "./payroc.js"}
	return map[string]any{
		"name":        Name,
		"version":     version,
		"description": "Payroc Cloud card-present refunds from a browser POS: the WebAssembly module and its loader, talking to the payroc proxy",
		"type":        "module",
		"exports": map[string]any{
			".":              module,
			"./payroc.js":    module,
			"./payroc.wasm":  "./payroc.wasm",
			"./wasm_exec.js": "./wasm_exec.js",
			"./package.json": "./package.json",
		},
		"types":       "./payroc.d.ts",
		"files":       append(append([]string(nil), files...), "README.md"),
		"sideEffects": []string{"./wasm_exec.js"},
		"keywords":    []string{"payroc", "payments", "refund", "pos", "webassembly"},
		"repository":  map[string]string{"type": "git", "url": "git+https://github.com/posrefund/cloud.git"},
		"homepage":    "https://github.com/posrefund/cloud#use-it-in-your-own-app",
	}
}

// clean empties out, or makes it. It refuses a directory that holds anything but an earlier package, so a
// mistyped -out never wipes a folder of the user's.
func clean(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(out, 0o755)
	}
	if err != nil {
		return err
	}
	ours := map[string]bool{"package.json": true, "README.md": true}
	for _, f := range files {
		ours[f] = true
	}
	for _, e := range entries {
		if !ours[e.Name()] && !strings.HasSuffix(e.Name(), ".tgz") {
			return fmt.Errorf("%s holds %s, which is not part of the package: give an empty or new -out directory", out, e.Name())
		}
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(out, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
