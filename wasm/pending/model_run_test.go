//go:build !js

package pending_test

import (
	"testing"

	"github.com/posrefund/cloud/internal/rapidtest"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/posrefund/cloud/wasm/pending"
)

// No interleaving of submits, lost answers, reloads, tabs, status reads, cancels, proxy restarts, refused
// storage writes and token renewals breaks the page's invariants: at most one live or completed
// instruction per order and one per record; no record gone before its outcome was seen; a final outcome
// never replaced; a live refund always cancelable. make model runs it with -rapid.checks in the thousands.
func TestPageModel(t *testing.T) {
	histories, steps := 0, 0
	rapid.Check(t, pageModelRun(&histories, &steps))
	t.Logf("model: page: %d histories, %d steps, 0 violations", histories, steps)
}

// The page model finds each planted bug within its default number of histories: a cancel whose 404 stands
// (the fix of issue 17 reverted), a failed submit that drops its record whatever was sent, a record ended
// by a status in progress. Without this, a model that passes proves nothing.
func TestPageModelFindsPlantedBugs(t *testing.T) {
	rapidtest.ExpectFailures(t, 0)
	for _, tc := range []struct{ plant, invariant string }{
		{"no-reattach", "invariant 4"},
		{"drop-always", "invariant 2"},
		{"forget-early", "invariant 2"},
	} {
		t.Run(tc.plant, func(t *testing.T) {
			defer pending.Plant(tc.plant)()
			rec := &rapidtest.Recorder{T: t}
			histories, steps := 0, 0
			rapid.Check(rec, pageModelRun(&histories, &steps))
			require.True(t, rec.Failed(), "the planted bug was not found")
			require.Contains(t, rec.Report(), tc.invariant)
			t.Logf("counterexample:\n%s", rec.Report())
		})
	}
}
