package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// These tests run two proxy instances that share one Redis and one simulator, behind a round-robin front
// with no stickiness (harness.Front), as a merchant deploys them for availability.

// startShared starts a stack of its own for t: simulator, Redis, two proxies and the front.
func startShared(t *testing.T) *harness.Stack {
	t.Helper()
	setupOrFail(t)
	st, err := harness.StartStack(harness.StackConfig{
		WebDir:    filepath.Join(env.root, "web"),
		Sim:       sim.Config{APIKey: fmt.Sprintf("e2e-shared-key-%d", time.Now().UnixNano()), ExtraDevices: 4},
		Redis:     true,
		Instances: 2,
	})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return st
}

// openAt opens the POS page at base (the front, or one instance) signed in for laneID on dev.
func openAt(t *testing.T, st *harness.Stack, base string, dev sim.Device, laneID string) *pos {
	t.Helper()
	spec := laneSpec{devices: []sim.Device{dev}, lane: laneID}
	tok := mintToken(t, st.Proxy, spec)
	tab := env.browser.NewTab(t, harness.Label(laneID))
	p := &pos{Tab: tab, t: t, proxy: st.Proxy, device: dev, token: tok, spec: spec}
	tab.Navigate(base + "/#token=" + tok.Token)
	tab.WaitReady()
	return p
}

// apiHits are the front's hits on the refund API, with the instance that served each.
func apiHits(f *harness.Front) []harness.Hit {
	var out []harness.Hit
	for _, h := range f.Hits() {
		if strings.HasPrefix(h.Path, "/v1/") {
			out = append(out, h)
		}
	}
	return out
}

// noNotFound fails when the page saw any 404 from the API.
func noNotFound(t *testing.T, rec *harness.Recorder) {
	t.Helper()
	for _, x := range rec.Exchanges() {
		if strings.Contains(x.URL, "/v1/") && x.Status == http.StatusNotFound {
			t.Errorf("the page got a 404 for %s %s", x.Method, x.URL)
		}
	}
}

// submitsOf lists the Idempotency-Keys of the page's submits.
func submitsOf(rec *harness.Recorder) []string {
	var keys []string
	for _, x := range rec.Exchanges() {
		if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
			keys = append(keys, header(x.RequestHeaders, "Idempotency-Key"))
		}
	}
	return keys
}

// Two instances, no stickiness: the page's submit goes to one instance and its status GETs and cancel go
// to both, and everything works as with one proxy.
func TestTwoInstancesNoStickiness(t *testing.T) {
	t.Parallel()
	st := startShared(t)
	dev := st.Sim.Devices()[2]
	p := openAt(t, st, st.Front.URL, dev, "e2e-shared-till-1")
	rec := p.RecordNetwork()

	p.refund("41.04") // approved after more than one long-poll hold: several status GETs
	p.waitStatus("approved")
	r := p.receipt()
	assert.Equal(t, "approved", r.Outcome)
	hits := apiHits(st.Front)
	var submitOn = -1
	served := map[int]bool{}
	for _, h := range hits {
		assert.Less(t, h.Status, 400, "%s %s on instance %d answered %d", h.Method, h.Path, h.Instance, h.Status)
		if h.Method == "POST" {
			submitOn = h.Instance
		} else if submitOn >= 0 {
			served[h.Instance] = true
		}
	}
	require.GreaterOrEqual(t, submitOn, 0, "no submit went through the front: %+v", hits)
	assert.True(t, served[1-submitOn], "the other instance served a later call of this refund: %+v", hits)

	p.refund("41.03") // waits for a card until canceled
	p.waitStatus("inProgress")
	_, key := p.waitInstruction()
	p.WaitEnabled("cancel-button")
	p.Click("cancel-button")
	p.waitStatus("canceled")
	assert.Zero(t, refundsOfSim(st, key), "a canceled refund made a refund")
	var cancels int
	for _, h := range apiHits(st.Front) {
		if h.Method == "DELETE" {
			cancels++
			assert.Equal(t, http.StatusNoContent, h.Status)
		}
	}
	assert.Equal(t, 1, cancels)
	noNotFound(t, rec)
	assert.Len(t, submitsOf(rec), 2, "one submit per refund")
}

// One device, two instances: two lanes on one device through different instances get one 202 and one 409
// device-busy, whether one page comes after the other or both submit at the same instant.
func TestOneDeviceTwoInstances(t *testing.T) {
	t.Parallel()
	st := startShared(t)
	dev := st.Sim.Devices()[2]
	first := openAt(t, st, st.Proxies[0].URL, dev, "e2e-shared-till-1")
	first.refund("42.03")
	first.waitStatus("inProgress")
	id, _ := first.waitInstruction()
	second := openAt(t, st, st.Proxies[1].URL, dev, "e2e-shared-till-2")
	second.refund("42.00")
	second.waitStatus("error")
	assert.Equal(t, "device-busy", second.Attr("error", "data-code"))
	require.NoError(t, st.Sim.Finish(id, payroc.StatusCompleted))
	first.waitStatus("approved")

	// Both at once, straight at the API, many times: never two 202s.
	ctx := t.Context()
	tokens := make([]string, 2)
	for i := range tokens {
		tokens[i] = mintToken(t, st.Proxy, laneSpec{devices: []sim.Device{st.Sim.Devices()[3]}, lane: fmt.Sprintf("e2e-race-%d", i)}).Token
	}
	for round := range 10 {
		var wg sync.WaitGroup
		codes := make([]int, 2)
		ids := make([]string, 2)
		start := make(chan struct{})
		for i := range 2 {
			wg.Go(func() {
				body := fmt.Sprintf(`{"processingTerminalId":%q,"order":{"orderId":"ORDER-%d","description":"Refund","amount":1003,"currency":"USD"}}`,
					st.Sim.Devices()[3].ProcessingTerminalID, 2000+round)
				req, _ := http.NewRequestWithContext(ctx, "POST", st.Proxies[i].URL+"/v1/devices/"+st.Sim.Devices()[3].SerialNumber+"/refund-instructions",
					bytes.NewReader([]byte(body)))
				req.Header.Set("Authorization", "Bearer "+tokens[i])
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", payroc.NewIdempotencyKey())
				<-start
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				defer res.Body.Close()
				codes[i] = res.StatusCode
				if res.StatusCode == http.StatusAccepted {
					var inst payroc.RefundInstruction
					if decodeJSON(res, &inst) == nil {
						ids[i] = inst.RefundInstructionID
					}
				}
			})
		}
		close(start)
		wg.Wait()
		assert.ElementsMatch(t, []int{http.StatusAccepted, http.StatusConflict}, codes, "round %d", round)
		for _, id := range ids {
			if id != "" {
				require.NoError(t, st.Sim.Finish(id, payroc.StatusCanceled))
				// The proxies learn the end from a status GET, as the page's watch would tell them.
				waitFinalVia(t, st, tokens, id)
			}
		}
	}
}

// Kill an instance mid-refund: the page goes on through the other without a resubmit and without a 404.
func TestKillAnInstanceMidRefund(t *testing.T) {
	t.Parallel()
	st := startShared(t)
	dev := st.Sim.Devices()[2]
	p := openAt(t, st, st.Front.URL, dev, "e2e-shared-till-1")
	rec := p.RecordNetwork()
	p.refund("43.03")
	p.waitStatus("inProgress")
	id, key := p.waitInstruction()
	submitOn := -1
	for _, h := range apiHits(st.Front) {
		if h.Method == "POST" {
			submitOn = h.Instance
		}
	}
	require.GreaterOrEqual(t, submitOn, 0)
	st.Front.Kill(submitOn) // the instance that took the submit, while the page watches
	require.NoError(t, st.Sim.Finish(id, payroc.StatusCompleted))
	p.waitStatus("approved")
	assert.Equal(t, "approved", p.receipt().Outcome)
	assert.Equal(t, []string{key}, submitsOf(rec), "no resubmit")
	noNotFound(t, rec)
	assert.Equal(t, 1, refundsOfSim(st, key))
}

// Revocation: a revoked token is refused by both instances within one second.
func TestRevokedTokenRefusedByBothInstances(t *testing.T) {
	t.Parallel()
	st := startShared(t)
	tok := mintToken(t, st.Proxy, laneSpec{devices: []sim.Device{st.Sim.Devices()[2]}, lane: "e2e-shared-revoke"})
	get := func(base, path, auth string) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		req.Header.Set("Authorization", auth)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	for _, p := range st.Proxies {
		require.Equal(t, http.StatusOK, get(p.URL, "/lane", "Bearer "+tok.Token))
	}
	req, _ := http.NewRequestWithContext(t.Context(), "DELETE", st.Proxies[1].URL+"/admin/lane-tokens/"+tok.TokenID, nil)
	req.Header.Set("Authorization", "Bearer "+st.AdminKey)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	revoked := time.Now()
	for _, p := range st.Proxies {
		require.Eventually(t, func() bool { return get(p.URL, "/lane", "Bearer "+tok.Token) == http.StatusUnauthorized },
			time.Second, 10*time.Millisecond, "instance %s still takes the revoked token", p.URL)
	}
	t.Logf("both instances refused the revoked token within %v", time.Since(revoked).Round(time.Millisecond))
}

// Redis stopped mid-run: the page's calls get state-unavailable, and its refund finishes once Redis is back.
// Nothing is doubled. (Redis comes back empty, as one without persistence does: the page replays its submit
// with the same key, and Payroc answers with the same instruction.)
func TestRedisStoppedMidRun(t *testing.T) {
	t.Parallel()
	st := startShared(t)
	dev := st.Sim.Devices()[2]
	p := openAt(t, st, st.Front.URL, dev, "e2e-shared-till-1")
	rec := p.RecordNetwork()
	p.refund("44.03")
	p.waitStatus("inProgress")
	id, key := p.waitInstruction()
	require.NoError(t, st.StopRedis())
	require.Eventually(t, func() bool {
		for _, h := range apiHits(st.Front) {
			if h.Status == http.StatusServiceUnavailable {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "the page's watch never met state-unavailable")
	require.NoError(t, st.Sim.Finish(id, payroc.StatusCompleted)) // the device finishes while Redis is away
	require.NoError(t, st.StartRedis())
	p.waitStatus("approved")
	assert.Equal(t, 1, refundsOfSim(st, key), "nothing doubled")
	for _, k := range submitsOf(rec) {
		assert.Equal(t, key, k, "every submit reuses the refund's key")
	}
	var unavailable int
	for _, x := range rec.Exchanges() {
		if x.Status == http.StatusServiceUnavailable && strings.Contains(string(x.Body), "state-unavailable") {
			unavailable++
		}
	}
	assert.Positive(t, unavailable, "the page saw state-unavailable while Redis was away")
}

func refundsOfSim(st *harness.Stack, key string) int { return st.Sim.RefundsFor(key) }

// waitFinalVia asks for instruction id's status through the instances until one tells a final status
// (which frees its device on both).
func waitFinalVia(t *testing.T, st *harness.Stack, tokens []string, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, tok := range tokens {
			req, _ := http.NewRequestWithContext(context.Background(), "GET", st.Proxies[0].URL+"/v1/refund-instructions/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			var inst payroc.RefundInstruction
			ok := res.StatusCode == http.StatusOK && decodeJSON(res, &inst) == nil && inst.Status.Final()
			res.Body.Close()
			if ok {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond)
}

func decodeJSON(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }

// mustRefund checks req for device serial under key ("" makes one), as a caller does before Submit.
func mustRefund(t require.TestingT, serial string, req *payroc.RefundInstructionRequest, key string) payroc.DeviceRefund {
	r, err := payroc.NewDeviceRefund(serial, *req, key)
	require.NoError(t, err)
	return r
}
