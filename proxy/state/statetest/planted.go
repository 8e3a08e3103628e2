package statetest

import (
	"context"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
)

// Planted bugs: wrappers over a correct store that break one rule each. The differential check (proxy/state)
// and the proxy model (proxy/server) must each find them; a check that passes proves nothing until it has
// failed on a planted bug. They live here, once, so both checks hunt the same bug.

// DropsGuard forgets that a submit whose answer was lost may have reached the device: a settlement without
// an accepted instruction claims nothing was created, so the device is freed while a refund may run on it.
// A submit answered with its instruction is left alone: that settlement already says what the device runs.
type DropsGuard struct{ state.State }

// Settle implements state.State with the planted bug.
func (d DropsGuard) Settle(ctx context.Context, s state.Settlement, now time.Time) (state.Settled, error) {
	if s.Accepted == nil {
		s.NothingCreated = true
	}
	return d.State.Settle(ctx, s, now)
}

// LosesAudit never says a final outcome is seen for the first time, so no final outcome is audited.
type LosesAudit struct{ state.State }

// Observe implements state.State with the planted bug.
func (l LosesAudit) Observe(ctx context.Context, id string, st payroc.Status, refundID string, now time.Time) (state.Instruction, bool, error) {
	rec, _, err := l.State.Observe(ctx, id, st, refundID, now)
	return rec, false, err
}
