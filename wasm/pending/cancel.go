package pending

import (
	"context"
	"errors"

	"github.com/posrefund/cloud/payroc"
)

// Cancel cancels instruction id through c and records what came of it (a final status ends the record, as
// a watch's does). When the proxy answers 404 (it restarted and its memory state went, so it no longer knows
// the instruction) while this browser holds the record, Cancel re-attaches first: it replays the recorded
// submit with the same key, which the gateway answers with the same instruction and the proxy files under
// the lane again, then cancels that. So a live refund never loses its working Cancel. A replay answered
// with a final status needs no cancel: that status is the answer. A record older than ResendWindow is never
// sent again: the gateway may have forgotten its key, and the replay would be a new refund.
func (p *Store) Cancel(ctx context.Context, c *payroc.Client, id string) (*payroc.RefundInstruction, error) {
	inst, err := c.Cancel(ctx, id)
	if errors.Is(err, payroc.ErrNotFound) && planted != "no-reattach" {
		inst, err = p.reattach(ctx, c, id, err)
	}
	if err != nil {
		return nil, err
	}
	key, serr := p.ObserveInstruction(inst, true)
	p.warn(serr)
	inst.IdempotencyKey = key
	return inst, nil
}

// reattach replays the submit of the record of id and cancels the instruction it is answered with; notFound
// is the answer when this browser has no record of id.
func (p *Store) reattach(ctx context.Context, c *payroc.Client, id string, notFound error) (*payroc.RefundInstruction, error) {
	key, err := p.KeyOf(id)
	if err != nil || key == "" {
		return nil, notFound
	}
	rec, err := p.Get(key)
	if err != nil || rec == nil {
		return nil, notFound
	}
	if !rec.mayResend(p.now()) {
		return nil, tooOldToResend()
	}
	r, err := rec.DeviceRefund()
	if err != nil {
		return nil, err
	}
	sub, err := c.Submit(ctx, r)
	if err != nil {
		return nil, err
	}
	if sub.RefundInstructionID != id {
		// The key's one instruction is the truth: record it, so the record follows it.
		if err := p.Observe(key, sub, false); err != nil {
			return nil, err
		}
	}
	if sub.Status.Final() {
		return sub, nil
	}
	return c.Cancel(ctx, sub.RefundInstructionID)
}
