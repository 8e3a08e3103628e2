package pending

import (
	"context"

	"github.com/posrefund/cloud/payroc"
)

// Watch is the module's watch: it follows instruction id through c to its final status (payroc.Client.Watch),
// recording each status on the record of id when this browser has one (the final status ends it: the final
// status is all watch promises), and hands each to onStatus (may be nil). Each status, and the final
// instruction returned, carries the record's key ("" when this browser did not submit the instruction).
func (p *Store) Watch(ctx context.Context, c *payroc.Client, id string,
	onStatus func(*payroc.RefundInstruction)) (*payroc.RefundInstruction, error) {
	key, err := p.KeyOf(id)
	p.warn(err)
	inst, err := c.Watch(ctx, id, func(inst *payroc.RefundInstruction) {
		inst.IdempotencyKey = key
		if key != "" {
			p.warn(p.Observe(key, inst, true))
		}
		if onStatus != nil {
			onStatus(inst)
		}
	})
	if err != nil {
		return nil, err
	}
	inst.IdempotencyKey = key
	return inst, nil
}
