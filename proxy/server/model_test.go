package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/rapidtest"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/state"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
	"github.com/posrefund/cloud/proxy/state/statetest"
)

// The proxy model: a rapid state machine of submits, replays, status reads and cancels from two lanes on two
// devices, spread over two proxy instances that share one store, through the HTTP handler against the real
// simulator; with faults: an upstream answer lost, a store call failing (after it ran, or before), the
// device ending a refund unseen. After every step: no device runs two instructions at once; no lane reads,
// cancels or is answered with another lane's instruction; at most one instruction per key; a lane's replay of
// its own live refund, in either case, is never refused; every final outcome a client was shown is audited.

var (
	modelLanes   = []string{"front-1", "front-2"}
	modelDevices = []string{"1850010868", "1850010869"}
)

type proxyModel struct {
	h      *harness
	urls   [2]string
	tokens map[string]string
	store  *lossy
	keys   []modelKey
	owner  map[string]string // instruction id → the lane first answered with it
	ids    []string          // the instruction ids, in the order first seen
	keyOf  map[string]string // instruction id → its key
	ended  map[string]bool   // keys whose instruction the model saw end (device, cancel)
	final  map[string]bool   // instruction ids a client was shown final
	steps  int
}

type modelKey struct {
	key, lane, device string
}

// newProxyModel builds one world: the simulator, two instances on one store (memory shared in process, or
// Redis under prefix).
// plant, when set, wraps the store with a planted bug.
func newProxyModel(t *testing.T, rs *redistest.Server, prefix string, plant func(state.State) state.State) *proxyModel {
	m := &proxyModel{store: &lossy{}, tokens: map[string]string{}, owner: map[string]string{}, keyOf: map[string]string{},
		ended: map[string]bool{}, final: map[string]bool{}}
	m.h = newHarness(t, func(s *sim.Config, c *server.Config) {
		s.Hold, s.Timeout = time.Millisecond, time.Hour // a status in progress answers at once; no refund times out
		c.ShutdownGrace = time.Millisecond              // a history's rig leaves at once when the test ends
		c.State = &lateState{build: func(c server.Config) state.State {
			set := c.StateSettings()
			if rs == nil {
				m.store.State = state.NewMemory(set)
				if plant != nil {
					m.store.State = plant(m.store.State)
				}
				return m.store
			}
			set.Timeout = 5 * time.Second
			st, rdb, err := redisstate.Open(rs.URL(), prefix, set)
			require.NoError(t, err)
			t.Cleanup(func() { _ = rdb.Close() })
			m.store.State = st
			return m.store
		}}
	})
	m.urls = [2]string{m.h.url, m.h.instance()}
	for _, l := range modelLanes {
		m.tokens[l] = m.h.token(l, 100000, modelDevices...)
	}
	return m
}

func (m *proxyModel) via(t *rapid.T, method, path, lane string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	base := m.urls[rapid.IntRange(0, 1).Draw(t, "instance")]
	return m.h.via(base, method, path, m.tokens[lane], body, hdr)
}

// sees checks an answer to lane about an instruction: never another lane's; a final status is noted.
func (m *proxyModel) sees(t *rapid.T, lane string, inst payroc.RefundInstruction) {
	id := inst.RefundInstructionID
	if owner, ok := m.owner[id]; ok && owner != lane {
		t.Fatalf("lane %s was answered with %s, an instruction of %s", lane, id, owner)
	}
	if _, ok := m.owner[id]; !ok {
		m.owner[id] = lane
		m.ids = append(m.ids, id)
	}
	if inst.Status.Final() {
		m.final[id] = true
		m.ended[m.keyOf[id]] = true
	}
}

func (m *proxyModel) submit(t *rapid.T) {
	lane := rapid.SampledFrom(modelLanes).Draw(t, "lane")
	k := modelKey{key: fmt.Sprintf("0000abcd-0000-4000-8000-%012d", len(m.keys)+1), lane: lane, device: rapid.SampledFrom(modelDevices).Draw(t, "device")}
	replay := len(m.keys) > 0 && rapid.Bool().Draw(t, "replay")
	ownLive := false // a replay of a live instruction by the lane that made it, which must pass
	if replay {
		k = m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "key")] // its own lane's replay, or another lane's key
		ownLive = m.liveOwner(k.key) == lane
		if rapid.Bool().Draw(t, "upper case") {
			k.key = strings.ToUpper(k.key) // the same key in another spelling
		}
		k.lane = lane
	} else {
		m.keys = append(m.keys, k)
	}
	if rapid.IntRange(0, 2).Draw(t, "lose answer") == 0 {
		if err := m.h.sim.DropNext(1, sim.RouteSubmit); err != nil {
			t.Fatal(err)
		}
	}
	res, body := m.via(t, "POST", "/v1/devices/"+k.device+"/refund-instructions", lane, refundBody(k.device, 1003),
		map[string]string{"Idempotency-Key": k.key})
	if ownLive && res.StatusCode == http.StatusConflict {
		t.Fatalf("lane %s's replay of its live refund (key %s) was refused: %s", lane, k.key, body)
	}
	// A lost answer left unused (the submit was refused before it went upstream) waits for the next one.
	if res.StatusCode == http.StatusAccepted {
		inst := modelInstruction(t, body)
		m.keyOf[inst.RefundInstructionID] = strings.ToLower(k.key)
		m.sees(t, lane, inst)
	}
}

// liveOwner is the lane whose instruction under key the model knows and has not seen end ("" when none).
func (m *proxyModel) liveOwner(key string) string {
	for id, k := range m.keyOf {
		if k == strings.ToLower(key) && !m.ended[k] && !m.final[id] {
			return m.owner[id]
		}
	}
	return ""
}

func modelInstruction(t *rapid.T, body []byte) payroc.RefundInstruction {
	var inst payroc.RefundInstruction
	if err := json.Unmarshal(body, &inst); err != nil || inst.RefundInstructionID == "" {
		t.Fatalf("an answer that is not an instruction: %s", body)
	}
	return inst
}

func (m *proxyModel) knownID(t *rapid.T) string {
	if len(m.ids) == 0 {
		t.Skip("no instruction known yet")
	}
	return m.ids[rapid.IntRange(0, len(m.ids)-1).Draw(t, "instruction")] // by order seen: ids are random
}

func (m *proxyModel) status(t *rapid.T) {
	id, lane := m.knownID(t), rapid.SampledFrom(modelLanes).Draw(t, "lane")
	res, body := m.via(t, "GET", "/v1/refund-instructions/"+id, lane, nil, nil)
	if res.StatusCode == http.StatusOK {
		m.sees(t, lane, modelInstruction(t, body))
	}
}

func (m *proxyModel) cancel(t *rapid.T) {
	id, lane := m.knownID(t), rapid.SampledFrom(modelLanes).Draw(t, "lane")
	res, body := m.via(t, "DELETE", "/v1/refund-instructions/"+id, lane, nil, nil)
	switch {
	case res.StatusCode == http.StatusNoContent:
		m.sees(t, lane, payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusCanceled})
	case res.StatusCode == http.StatusConflict && strings.Contains(string(body), `"refund"`):
		m.sees(t, lane, payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusCompleted}) // completed first
	case res.StatusCode == http.StatusConflict:
		// Over already, but which way a status read says: the outcome is not shown by this answer.
		m.sees(t, lane, payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusInProgress})
		m.ended[m.keyOf[id]] = true
	}
}

// device ends a refund on its own; nobody is told.
func (m *proxyModel) device(t *rapid.T) {
	id := m.knownID(t)
	if m.h.sim.Finish(id, rapid.SampledFrom([]payroc.Status{payroc.StatusCompleted, payroc.StatusFailure}).Draw(t, "outcome")) == nil {
		m.ended[m.keyOf[id]] = true
	}
}

// storeFault makes the next store call that files a final status fail, after it ran or before.
func (m *proxyModel) storeFault(t *rapid.T) {
	ran := rapid.Bool().Draw(t, "ran")
	m.store.mu.Lock()
	m.store.armed, m.store.ran = true, ran
	m.store.mu.Unlock()
}

func (m *proxyModel) check(t *rapid.T) {
	m.steps++
	live := map[string]int{}
	for key, n := range m.h.sim.Stats().InstructionsByKey {
		if n > 1 {
			t.Fatalf("key %s made %d instructions", key, n)
		}
		if m.ended[key] {
			continue
		}
		for _, k := range m.keys {
			if strings.ToLower(k.key) == key {
				if live[k.device]++; live[k.device] > 1 {
					t.Fatalf("device %s runs two instructions at once", k.device)
				}
			}
		}
	}
	for id := range m.final {
		if m.h.finals(id) == 0 {
			t.Fatalf("the final outcome of %s was shown to a client and never audited", id)
		}
	}
}

func (m *proxyModel) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"submit": m.submit, "status": m.status, "cancel": m.cancel, "device": m.device, "store fault": m.storeFault,
		"": m.check,
	}
}

func TestProxyModel(t *testing.T) {
	rs := redistest.Start(t)
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			histories, steps, n := 0, 0, 0
			rapid.Check(t, func(rt *rapid.T) {
				n++
				var srv *redistest.Server
				if backend == "redis" {
					srv = rs
				}
				m := newProxyModel(t, srv, fmt.Sprintf("model%d:", n), nil)
				rt.Repeat(m.actions())
				histories++
				steps += m.steps
			})
			t.Logf("model: proxy (%s): %d histories, %d steps, 0 violations", backend, histories, steps)
		})
	}
}

// The proxy model finds each planted bug within its default number of histories.
func TestProxyModelFindsPlantedBugs(t *testing.T) {
	rapidtest.ExpectFailures(t, time.Second) // each history is a whole rig: little time shrinking
	for _, tc := range []struct {
		name, want string
		plant      func(state.State) state.State
		planted    func(cleanup func(func())) // a bug planted in the proxy itself
	}{
		{"guard dropped", "runs two instructions", func(s state.State) state.State { return statetest.DropsGuard{State: s} }, nil},
		{"audit lost", "never audited", func(s state.State) state.State { return statetest.LosesAudit{State: s} }, nil},
		{"key not canonicalised", "was refused", nil, server.PlantKeySpelling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.planted != nil {
				tc.planted(t.Cleanup)
			}
			rec := &rapidtest.Recorder{T: t}
			rapid.Check(rec, func(rt *rapid.T) {
				rt.Repeat(newProxyModel(t, nil, "", tc.plant).actions())
			})
			require.True(t, rec.Failed(), "the planted bug was not found")
			require.Contains(t, rec.Report(), tc.want)
			t.Log(strings.SplitN(rec.Report(), "\n", 2)[0])
		})
	}
}
