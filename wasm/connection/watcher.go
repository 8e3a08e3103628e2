// Package connection tells the page whether the browser module's calls to the proxy are getting through.
// The module rides out network errors and 5xx answers by itself (retrying with backoff), which is right for
// the refund but would leave the cashier looking at "Waiting for the card" with no sign of trouble; the
// module reports each change through load()'s onConnection instead, so nothing has to patch the page's
// fetch. It is the logic of the browser module (wasm/) without syscall/js, so it builds and is tested on the
// host, under -race.
package connection

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// State is the connection's state as the page sees it (DESIGN's onConnection: 'online' or 'retrying').
type State string

const (
	// Online: the last call got an answer that was not a gateway failure.
	Online State = "online"
	// Retrying: the last call got no answer (no connection, or none in time) or a 502, 503 or 504.
	Retrying State = "retrying"
)

// Watcher is a payroc.Doer that passes every request to Next and notes from its outcome whether the proxy
// is reachable. OnChange is called when the state changes, with the new state and when the call that
// changed it ended; never twice in a row with the same state. It starts Online.
type Watcher struct {
	Next     payroc.Doer
	OnChange func(state State, since time.Time)
	Now      func() time.Time // time.Now when nil

	mu    sync.Mutex
	state State
}

// Do sends req through Next and notes what its outcome says about the connection. A call the caller gave up
// on (its context ended) says nothing about it.
func (w *Watcher) Do(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
	res, err := w.Next.Do(ctx, req)
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil:
		w.mark(Retrying)
	case failing(res.StatusCode):
		w.mark(Retrying)
	default:
		w.mark(Online)
	}
	return res, err
}

// failing reports whether status is a gateway's failure: the proxy, or the way to Payroc, is not answering.
func failing(status int) bool {
	return status == 502 || status == 503 || status == 504
}

// mark moves to state and reports the change. It reports under the lock so that reports arrive in the order
// of the changes.
func (w *Watcher) mark(state State) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if state == cmp.Or(w.state, Online) {
		return
	}
	w.state = state
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	if w.OnChange != nil {
		w.OnChange(state, now())
	}
}
