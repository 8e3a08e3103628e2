package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// A rolling deploy mid-refund: the instance holding the page's long-poll is told to stop (SIGTERM) while the
// device still waits for the card. The front stops sending it requests once its /readyz says so; the
// long-poll it holds is answered at once with the refund still in progress (not held for the whole
// shutdown grace); the page carries on through the other instance and shows the approval: no error
// answer, no resubmit, one refund.
func TestLeavingInstanceMidRefund(t *testing.T) {
	t.Parallel()
	st := startSharedHolding(t, time.Minute) // only leaving can end a long-poll early
	dev := st.Sim.Devices()[2]
	p := openAt(t, st, st.Front.URL, dev, "e2e-shared-till-leave")
	rec := p.RecordNetwork()
	p.refund("45.03") // ending 03: no card until the test finishes it on the device
	p.waitStatus("inProgress")
	id, key := p.waitInstruction()
	holder := -1
	require.Eventually(t, func() bool {
		for i, inst := range st.Proxies {
			if openLongPolls(t, inst.URL) == 1 {
				holder = i
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "an instance to hold the page's long-poll")

	polls := func() (n int) {
		for _, h := range st.Front.Hits() {
			if h.Instance == holder && h.Method == "GET" && strings.HasSuffix(h.Path, "/"+id) {
				n++
			}
		}
		return n
	}
	before := polls()
	gone, err := st.Front.Leave(holder)
	require.NoError(t, err, "the leaving instance to go out of rotation")
	require.Eventually(t, func() bool { return polls() > before }, 10*time.Second, 10*time.Millisecond,
		"the leaving instance to answer its long-poll")
	select {
	case <-gone:
		t.Fatal("the long-poll was held until the leaving instance was gone")
	default:
	}
	p.waitStatus("inProgress")
	p.audit("server going away") // axe-core: 0 violations while the instance leaves (issue 19)
	require.NoError(t, st.Sim.Finish(id, payroc.StatusCompleted))
	p.waitStatus("approved")
	assert.Equal(t, "approved", p.receipt().Outcome)
	assert.Equal(t, []string{key}, submitsOf(rec), "no resubmit")
	for _, x := range rec.Exchanges() {
		if strings.Contains(x.URL, "/v1/") {
			assert.Less(t, x.Status, int64(400), "the page got %d for %s %s", x.Status, x.Method, x.URL)
		}
	}
	for _, h := range st.Front.Hits() {
		if strings.HasPrefix(h.Path, "/v1/") {
			assert.Less(t, h.Status, 400, "instance %d answered %d for %s %s", h.Instance, h.Status, h.Method, h.Path)
		}
	}
	assert.Equal(t, 1, refundsOfSim(st, key))
	<-gone
}

// startSharedHolding is startShared with a simulator that holds a status long-poll for hold, and never
// times out an instruction the test has not finished (however slow the machine).
func startSharedHolding(t *testing.T, hold time.Duration) *harness.Stack {
	t.Helper()
	setupOrFail(t)
	st, err := harness.StartStack(harness.StackConfig{
		WebDir:    filepath.Join(env.root, "web"),
		Sim:       sim.Config{APIKey: fmt.Sprintf("e2e-leave-key-%d", time.Now().UnixNano()), ExtraDevices: 4, Hold: hold, Timeout: time.Hour},
		Redis:     true,
		Instances: 2,
	})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return st
}

// openLongPolls reads payroc_proxy_open_long_polls from an instance's /metrics.
func openLongPolls(t *testing.T, origin string) int {
	t.Helper()
	res, err := http.Get(origin + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "payroc_proxy_open_long_polls "); ok {
			n, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return int(n)
		}
	}
	return -1
}
