package main

import (
	"strings"
	"testing"
)

func TestFuzzFuncFindsTargets(t *testing.T) {
	src := "package x\n\nfunc FuzzParse(f *testing.F) {}\nfunc FuzzOther(ff *testing.F) {\n}\nfunc TestNot(t *testing.T) {}\n// func FuzzComment(f *testing.F)\n"
	var got []string
	for _, m := range fuzzFunc.FindAllStringSubmatch(src, -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != "FuzzParse,FuzzOther" {
		t.Fatalf("targets = %v", got)
	}
}

func TestExecsLineParsesProgress(t *testing.T) {
	m := execsLine.FindStringSubmatch("fuzz: elapsed: 3s, execs: 123456 (41150/sec), new interesting: 3 (total: 15)")
	if m == nil || m[1] != "123456" || m[2] != "3" {
		t.Fatalf("match = %q", m)
	}
}

func TestSummaryNamesEveryTarget(t *testing.T) {
	got := summary([]result{
		{target: target{name: "FuzzA"}, execs: 1234567, interesting: 2},
		{target: target{name: "FuzzB"}, execs: 10, failed: true},
	}, 3, "5s", 1)
	want := "R2 fuzzing: 2 of 3 targets x 5s, 1,234,577 execs, 2 new interesting inputs, failures=1 (FuzzA 1,234,567, FuzzB 10 FAILED)"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestFlakeIsOnlyTheDeadlineRace(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want bool
	}{
		{"deadline race", "fuzz: elapsed: 6s, execs: 74476 (0/sec)\n--- FAIL: FuzzX (6.03s)\n    context deadline exceeded\nFAIL\n", true},
		{"real finding", "--- FAIL: FuzzX (0.2s)\n    context deadline exceeded\n    Failing input written to testdata/fuzz/FuzzX/abc\n", false},
		{"panic", "--- FAIL: FuzzX\n    panic: boom\n    Failing input written to testdata/fuzz/FuzzX/abc\n", false},
		{"build error", "./x_test.go:3:1: syntax error\nFAIL\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := flake(tc.out); got != tc.want {
				t.Fatalf("flake = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSummaryNotesFlakes(t *testing.T) {
	got := summary([]result{{target: target{name: "FuzzA"}, execs: 5, flaked: true}}, 1, "5s", 0)
	want := "R2 fuzzing: 1 targets x 5s, 5 execs, 0 new interesting inputs, failures=0 (1 stopped by go.dev/issue/75804's deadline race, not a finding) (FuzzA 5 (deadline flake))"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
