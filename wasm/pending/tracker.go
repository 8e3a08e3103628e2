package pending

import (
	"context"
	"sync"

	"github.com/posrefund/cloud/payroc"
)

// Tracker is a payroc.Doer that watches the requests of one call on their way out, so a failed submit can
// tell "nothing created" from "maybe sent". Wrap the client's Doer in a fresh one per call (see Track).
type Tracker struct {
	next payroc.Doer

	mu      sync.Mutex
	created bool // some request may have created something (the negation of payroc.NothingCreated)
}

// Track returns a Tracker over next.
func Track(next payroc.Doer) *Tracker { return &Tracker{next: next} }

// Do sends req through the next Doer and notes what its answer proves.
func (t *Tracker) Do(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
	res, err := t.next.Do(ctx, req)
	if err != nil || res.StatusCode < 300 || !payroc.NothingCreated(payroc.ParseProblem(res.StatusCode, res.Header, res.Body)) {
		t.mu.Lock()
		t.created = true
		t.mu.Unlock()
	}
	return res, err
}

// NothingCreated reports whether the call's requests prove that it created nothing: none was sent (the call
// stopped first), or every one was answered with a refusal (payroc.NothingCreated). One request without an
// answer, answered 2xx, or answered with anything else (a 5xx, Payroc's 409 idempotency-key-in-use) and the
// call may have made an instruction.
func (t *Tracker) NothingCreated() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.created
}
