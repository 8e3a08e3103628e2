package server_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/state"
)

// lossy is a store whose next final Observe or Settle fails: with ran set it runs first and only its
// answer is lost (a Redis reply that timed out), without it nothing runs (Redis away).
type lossy struct {
	state.State
	mu     sync.Mutex
	armed  bool
	ran    bool
	failed int
}

func (l *lossy) take(final bool) (fail, run bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.armed || !final {
		return false, true
	}
	l.armed = false
	l.failed++
	return true, l.ran
}

var errLost = fmt.Errorf("%w: redis timed out", state.ErrUnavailable)

func (l *lossy) Observe(ctx context.Context, id string, st payroc.Status, refundID string, now time.Time) (state.Instruction, bool, error) {
	fail, run := l.take(st.Final())
	if run {
		rec, audit, err := l.State.Observe(ctx, id, st, refundID, now)
		if !fail {
			return rec, audit, err
		}
	}
	return state.Instruction{}, false, errLost
}

func (l *lossy) Settle(ctx context.Context, s state.Settlement, now time.Time) (state.Settled, error) {
	fail, run := l.take(s.Accepted != nil && s.Status.Final())
	if run {
		done, err := l.State.Settle(ctx, s, now)
		if !fail {
			return done, err
		}
	}
	return state.Settled{}, errLost
}

// withLossy puts a lossy store over the memory one.
func withLossy(l *lossy) option {
	return func(_ *sim.Config, c *server.Config) {
		c.State = &lateState{build: func(c server.Config) state.State {
			l.State = state.NewMemory(c.StateSettings())
			return l
		}}
	}
}

// finals counts the audit lines of instruction id's final outcome.
func (h *harness) finals(id string) int {
	n := 0
	for _, r := range h.logs.records("audit") {
		if r["event"] == "final" && r["refundInstructionId"] == id {
			n++
		}
	}
	return n
}

// Every final outcome is audited at least once, and at most once per instance, even when the store call that
// files it fails: whether it ran in the store (only its answer lost) or not at all.
func TestFinalOutcomeAuditedWhenTheStoreAnswerIsLost(t *testing.T) {
	for _, tc := range []struct {
		name string
		ran  bool
	}{
		{"the call ran, its answer was lost", true},
		{"the call never ran", false},
	} {
		t.Run("status read: "+tc.name, func(t *testing.T) {
			l := &lossy{ran: tc.ran}
			h := newHarness(t, withLossy(l))
			tok := h.token("front-1", 50000)
			inst, _ := h.mustSubmit(tok, "1850010868", 1000, "")
			l.mu.Lock()
			l.armed = true
			l.mu.Unlock()
			path := "/v1/refund-instructions/" + inst.RefundInstructionID
			// The refund ends on its own shortly (each poll is held at most the simulator's hold); the deadline
			// only turns a proxy that never meets the failing store into a failure instead of a hang.
			deadline := time.Now().Add(30 * time.Second)
			for {
				require.True(t, time.Now().Before(deadline), "the final status never reached the failing store")
				res, body := h.do("GET", path, tok, nil, nil)
				if res.StatusCode == http.StatusServiceUnavailable {
					break
				}
				require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
				require.False(t, decodeInstruction(t, body).Status.Final(), "the final status got past the failing store")
			}
			res, body := h.do("GET", path, tok, nil, nil)
			require.Equal(t, http.StatusOK, res.StatusCode, "the status once the store is back: %s", body)
			require.Equal(t, payroc.StatusCompleted, decodeInstruction(t, body).Status)
			h.do("GET", path, tok, nil, nil)
			assert.Equal(t, 1, h.finals(inst.RefundInstructionID), "final audit lines for one outcome on one instance")
		})
		t.Run("submit answered final: "+tc.name, func(t *testing.T) {
			l := &lossy{ran: tc.ran}
			h := newHarness(t, withLossy(l))
			tok := h.token("front-1", 50000)
			inst, key := h.mustSubmit(tok, "1850010868", 1003, "") // held until finished below
			require.NoError(t, h.sim.Finish(inst.RefundInstructionID, payroc.StatusCanceled))
			l.mu.Lock()
			l.armed = true
			l.mu.Unlock()
			res, body, _ := h.submit(tok, "1850010868", 1003, key) // the replay is answered with the final instruction
			problemOf(t, res, body, http.StatusServiceUnavailable, "state-unavailable")
			res, body, _ = h.submit(tok, "1850010868", 1003, key)
			require.Equal(t, http.StatusAccepted, res.StatusCode, "%s", body)
			require.Equal(t, payroc.StatusCanceled, decodeInstruction(t, body).Status)
			assert.Equal(t, 1, h.finals(inst.RefundInstructionID), "final audit lines for one outcome on one instance")
		})
	}
}
