package harness

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLeaveReportsAnInstanceThatStaysReady: Leave waits for the instance's /readyz to stop answering 200, and
// gives up with an error (the instance left in rotation) when it never does, rather than hanging the test.
func TestLeaveReportsAnInstanceThatStaysReady(t *testing.T) {
	saved := leaveTimeout
	leaveTimeout = 300 * time.Millisecond
	t.Cleanup(func() { leaveTimeout = saved })

	for _, stopWorks := range []bool{true, false} {
		var stopped atomic.Bool
		inst := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" && stopped.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		t.Cleanup(inst.Close)
		f, err := StartFrontOf([]string{inst.URL}, func(int) { stopped.Store(stopWorks) })
		require.NoError(t, err)
		t.Cleanup(f.Close)

		gone, err := f.Leave(0)
		<-gone
		f.mu.Lock()
		up := f.backends[0].up
		f.mu.Unlock()
		if stopWorks {
			require.NoError(t, err)
			require.False(t, up, "out of rotation once /readyz stops answering 200")
		} else {
			require.ErrorContains(t, err, "still answers /readyz 200")
			require.True(t, up, "an instance that never stopped stays in rotation")
		}
	}
}
