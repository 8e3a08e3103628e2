// Command fuzzrun runs every fuzz target of the module for a set time each and prints one summary line, the
// R2 figure of `make bench`:
//
//	R2 fuzzing: N targets x 30s, E execs, I new interesting inputs, failures=0 (FuzzLaneVerify E1, …)
//
// `make fuzz` runs it with FUZZTIME (default 30s) and shows go test's own output; `make bench` runs a short
// round quietly. Targets are found in the _test.go sources (func FuzzXxx(f *testing.F)), so listing them
// compiles nothing. A target that finds a failure stops the run with go test's report (the failing input is
// written under the package's testdata/fuzz, where go test leaves it) and exit status 1. A run that Go's own
// fuzzing coordinator ends with a spurious "context deadline exceeded" and no failing input (go.dev/issue/75804,
// fixed in Go 1.27) is counted as a flake, not a failure. The seed corpora run in `make test` as ordinary
// tests.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// target is one fuzz target: its package and function name.
type target struct {
	pkg, name string
}

// result is what one run reported.
type result struct {
	target
	execs, interesting int64
	failed             bool // a failing input was found (or go test failed otherwise)
	flaked             bool // go test failed with go.dev/issue/75804's deadline race and no failing input
}

// flake tells go.dev/issue/75804 (Go < 1.27): as a duration -fuzztime runs out, the fuzzing coordinator can
// report its own deadline as a failure, "context deadline exceeded", with no failing input. That is not a
// finding; a real one always says "Failing input written to".
func flake(out string) bool {
	return strings.Contains(out, "context deadline exceeded") && !strings.Contains(out, "Failing input written to")
}

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w*)\(\w+ \*testing\.F\)`)

// execsLine matches go test's progress lines: "fuzz: elapsed: 3s, execs: 123456 (41150/sec), new interesting: 3 (total: 15)".
var execsLine = regexp.MustCompile(`execs: (\d+) \(\d+/sec\), new interesting: (\d+)`)

func main() {
	fuzztime := flag.String("fuzztime", "30s", "how long to fuzz each target (go test -fuzztime)")
	quiet := flag.Bool("quiet", false, "print only the summary line (and go test's output when a target fails)")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	targets, err := findTargets(patterns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzrun:", err)
		os.Exit(2)
	}
	if len(targets) == 0 {
		fmt.Println("R2 fuzzing: no fuzz targets found")
		return
	}
	var results []result
	failures := 0
	for _, t := range targets {
		r := run(t, *fuzztime, *quiet)
		results = append(results, r)
		if r.failed {
			failures++
			break // the failing input is on disk; fix it before fuzzing on
		}
	}
	fmt.Println(summary(results, len(targets), *fuzztime, failures))
	if failures > 0 {
		os.Exit(1)
	}
}

// findTargets lists the packages matching patterns and the fuzz targets in their test files.
func findTargets(patterns []string) ([]target, error) {
	args := append([]string{"list", "-f", `{{.ImportPath}}|{{.Dir}}|{{join .TestGoFiles ","}}|{{join .XTestGoFiles ","}}`}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v", err)
	}
	var targets []target
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) != 4 {
			continue
		}
		for _, f := range strings.Split(parts[2]+","+parts[3], ",") {
			if f == "" {
				continue
			}
			src, err := os.ReadFile(filepath.Join(parts[1], f))
			if err != nil {
				return nil, err
			}
			for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
				targets = append(targets, target{pkg: parts[0], name: string(m[1])})
			}
		}
	}
	return targets, nil
}

// run fuzzes one target and reads its last progress line.
func run(t target, fuzztime string, quiet bool) result {
	cmd := exec.Command("go", "test", "-run=^$", "-fuzz=^"+t.name+"$", "-fuzztime="+fuzztime, t.pkg)
	var buf bytes.Buffer
	var w io.Writer = &buf
	if !quiet {
		fmt.Printf("== %s %s\n", t.pkg, t.name)
		w = io.MultiWriter(os.Stdout, &buf)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	r := result{target: t, failed: err != nil}
	if r.failed && flake(buf.String()) {
		r.failed, r.flaked = false, true
	}
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		if m := execsLine.FindStringSubmatch(sc.Text()); m != nil {
			r.execs, _ = strconv.ParseInt(m[1], 10, 64)
			r.interesting, _ = strconv.ParseInt(m[2], 10, 64)
		}
	}
	if r.failed && quiet {
		_, _ = os.Stdout.Write(buf.Bytes())
	}
	return r
}

func summary(results []result, total int, fuzztime string, failures int) string {
	var execs, interesting int64
	var each []string
	flaked := 0
	for _, r := range results {
		execs += r.execs
		interesting += r.interesting
		s := fmt.Sprintf("%s %s", r.name, commas(r.execs))
		switch {
		case r.failed:
			s += " FAILED"
		case r.flaked:
			s += " (deadline flake)"
			flaked++
		}
		each = append(each, s)
	}
	ran := fmt.Sprintf("%d targets", total)
	if len(results) < total {
		ran = fmt.Sprintf("%d of %d targets", len(results), total)
	}
	note := ""
	if flaked > 0 {
		note = fmt.Sprintf(" (%d stopped by go.dev/issue/75804's deadline race, not a finding)", flaked)
	}
	return fmt.Sprintf("R2 fuzzing: %s x %s, %s execs, %d new interesting inputs, failures=%d%s (%s)",
		ran, fuzztime, commas(execs), interesting, failures, note, strings.Join(each, ", "))
}

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
