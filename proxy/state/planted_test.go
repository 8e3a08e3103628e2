package state_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/rapidtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
	"github.com/posrefund/cloud/proxy/state/statetest"
)

// A planted bug of this package's own (the others are statetest's, shared with the proxy model).

// forgetsEarly drops an instruction's record once it is final, before its TTL: its lane can no longer read it.
type forgetsEarly struct {
	state.State
	mu    *sync.Mutex
	ended map[string]bool
}

func (f forgetsEarly) Observe(ctx context.Context, id string, st payroc.Status, refundID string, now time.Time) (state.Instruction, bool, error) {
	if st.Final() {
		f.mu.Lock()
		f.ended[id] = true
		f.mu.Unlock()
	}
	return f.State.Observe(ctx, id, st, refundID, now)
}

func (f forgetsEarly) Lookup(ctx context.Context, tokenID, id, laneID string, now time.Time) (state.Admission, state.Instruction, bool, error) {
	f.mu.Lock()
	gone := f.ended[id]
	f.mu.Unlock()
	if gone {
		return state.Admission{}, state.Instruction{}, false, nil
	}
	return f.State.Lookup(ctx, tokenID, id, laneID, now)
}

// The differential check finds each planted bug within its default number of histories, and shrinks it to
// a short history (logged). Without this, a differential check that passes proves nothing.
func TestDifferentialFindsPlantedBugs(t *testing.T) {
	rapidtest.ExpectFailures(t, 0)
	for _, tc := range []struct {
		name  string
		plant func(state.State) state.State
	}{
		{"drops the guard after a lost answer", func(s state.State) state.State { return statetest.DropsGuard{State: s} }},
		{"loses an audit", func(s state.State) state.State { return statetest.LosesAudit{State: s} }},
		{"forgets a record early", func(s state.State) state.State {
			return forgetsEarly{State: s, mu: &sync.Mutex{}, ended: map[string]bool{}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &rapidtest.Recorder{T: t}
			statetest.Differential(rec, func(set state.Settings) (state.State, state.State) {
				s := tc.plant(state.NewMemory(set))
				return s, s
			})
			require.True(t, rec.Failed(), "the planted bug was not found")
			assert.Contains(t, rec.Report(), "the reference answered")
			t.Logf("counterexample:\n%s", rec.Report())
		})
	}
}
