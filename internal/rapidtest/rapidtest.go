// Package rapidtest serves the tests that want a rapid property to fail: the models' planted-bug tests, which
// prove that a model finds a bug by planting one and expecting its failure.
package rapidtest

import (
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Recorder is the rapid.TB a planted-bug test hands to rapid.Check: it keeps the failure rapid reports,
// instead of failing the test, which wants exactly that failure. Its zero value with T set is usable.
type Recorder struct {
	*testing.T
	mu     sync.Mutex
	failed bool
	report strings.Builder
}

func (r *Recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *Recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *Recorder) Fatalf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *Recorder) Fatal(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *Recorder) Fail()                             { r.fail("") }
func (r *Recorder) FailNow()                          { r.fail("") }
func (r *Recorder) Logf(format string, args ...any)   { r.add(fmt.Sprintf(format, args...)) }
func (r *Recorder) Log(args ...any)                   { r.add(fmt.Sprint(args...)) }

// Failed reports whether rapid failed the property.
func (r *Recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Report is everything rapid reported and logged: the failure and its shrunk history.
func (r *Recorder) Report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.report.String()
}

func (r *Recorder) fail(msg string) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.add(msg)
}

func (r *Recorder) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.report.WriteString(msg + "\n")
}

// ExpectFailures sets rapid's flags for a test whose failures are wanted, until it ends: no fail files (they
// would replay a planted bug in the real test), and at most shrink spent shrinking each (0 keeps rapid's).
func ExpectFailures(t *testing.T, shrink time.Duration) {
	set := map[string]string{"rapid.nofailfile": "true"}
	if shrink > 0 {
		set["rapid.shrinktime"] = shrink.String()
	}
	for name, v := range set {
		f := flag.Lookup(name)
		if f == nil {
			t.Fatalf("rapid's flag -%s is not registered: import pgregory.net/rapid", name)
		}
		old := f.Value.String()
		if err := flag.Set(name, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = flag.Set(name, old) })
	}
}
