package bench

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain runs the P4 child (a proxy or a bare ReverseProxy in a process of its own) when asked to, and
// otherwise the tests and benchmarks, then cleans up what they shared (the build folder, the browser).
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(childMain(role))
	}
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		fmt.Printf("machine: %s\n", machine())
	}
	code := m.Run()
	shared.Close()
	os.Exit(code)
}
