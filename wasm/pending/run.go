package pending

import (
	"context"

	"github.com/posrefund/cloud/payroc"
)

// warn reports a storage failure that does not stop the call (the record is then older than the truth,
// never newer: see Store).
func (p *Store) warn(err error) {
	if err != nil && p.Warn != nil {
		p.Warn(err)
	}
}

// tracked returns a copy of c whose requests go through a fresh tracker.
func tracked(c *payroc.Client) (*payroc.Client, *Tracker) {
	t := Track(c.Doer)
	cc := *c
	cc.Doer = t
	return &cc, t
}

// Submit is the module's submit once Begin has recorded r (fresh: Begin made the record): one submit
// through c, the instruction recorded the moment it arrives, and the record dropped only when the failure
// proves nothing was created (DropIfNothingCreated).
func (p *Store) Submit(ctx context.Context, c *payroc.Client, r payroc.DeviceRefund, fresh bool) (*payroc.RefundInstruction, error) {
	tc, t := tracked(c)
	inst, err := tc.Submit(ctx, r)
	if err != nil {
		_, derr := p.DropIfNothingCreated(r.IdempotencyKey(), fresh, t)
		p.warn(derr)
		return nil, err
	}
	p.warn(p.Observe(r.IdempotencyKey(), inst, true))
	return inst, nil
}

// Run is the module's refund and resume: the whole flow (payroc.Client.RunRefund), recording each status
// under r's key. It reads the record itself: the instruction id an earlier run recorded is watched, whatever
// the record's age, and a record older than ResendWindow is only watched, never sent again. The record goes
// once the result is known, or when this call's own Begin made it (fresh) and the call created nothing.
func (p *Store) Run(ctx context.Context, c *payroc.Client, r payroc.DeviceRefund, fresh bool,
	onStatus func(*payroc.RefundInstruction)) (*payroc.RefundResult, error) {
	key := r.IdempotencyKey()
	tc, t := tracked(c)
	res, err := p.run(ctx, tc, r, onStatus)
	if err != nil {
		_, derr := p.DropIfNothingCreated(key, fresh, t)
		p.warn(derr)
		return nil, err
	}
	p.warn(p.Remove(key))
	return res, nil
}

// run is Run's flow through tc, from the record of r's key. Without a record nothing is sent: the record is
// what makes a send exactly once.
func (p *Store) run(ctx context.Context, tc *payroc.Client, r payroc.DeviceRefund,
	onStatus func(*payroc.RefundInstruction)) (*payroc.RefundResult, error) {
	key := r.IdempotencyKey()
	rec, err := p.Get(key)
	if err != nil {
		e := payroc.NewError(payroc.CodeStorageUnavailable,
			"the refund's record could not be read from this browser's storage, so nothing was sent: "+err.Error())
		e.Err = err
		return nil, e
	}
	if rec == nil {
		return nil, &payroc.Error{Code: payroc.CodeNotFound, Title: payroc.TitleForCode(payroc.CodeNotFound),
			Detail: "no unfinished refund with this idempotency key in this browser"}
	}
	resend := rec.mayResend(p.now()) // never a second send the gateway could take for a new refund
	if !resend && rec.RefundInstructionID == "" {
		return nil, tooOldToResend()
	}
	opts := payroc.RunOptions{
		RefundInstructionID: rec.RefundInstructionID,
		NoResubmit:          !resend,
		OnStatus: func(inst *payroc.RefundInstruction) {
			p.warn(p.Observe(key, inst, false))
			if onStatus != nil {
				onStatus(inst)
			}
		},
	}
	// RunRefund itself resubmits (same key) once when the instruction it watches turns unknown, as after a
	// proxy restart, and reports each status once.
	return tc.RunRefund(ctx, r, opts)
}
