package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// leavingHold is how long a status long-poll is held upstream while the proxy is leaving: long enough that a
// page polling this instance again does not spin, short enough that it soon moves on to another one.
const leavingHold = time.Second

// errLeaving ends an upstream long-poll because the proxy is leaving.
var errLeaving = errors.New("the proxy is leaving")

// startLeaving is the start of the shutdown grace: /readyz turns not-ready, open long-polls are answered at
// once and new ones within leavingHold (with the current status, so pages poll again, elsewhere if there is
// an elsewhere), and every answer closes its connection (HTTP/1) or ends it once idle (HTTP/2), so a client
// behind a load balancer reconnects to another instance. New requests are still answered.
func (s *Server) startLeaving(hs *http.Server) {
	s.draining.Store(true)
	if hs != nil {
		hs.SetKeepAlivesEnabled(false)
	}
	s.leaveNow()
}

// leaveShardCount is how many children of leaveCtx the long-polls wait on, taken in turn: context.AfterFunc
// registers with its context under that context's lock (and stop takes it again), so with one context for all
// polls every status GET took one lock twice; in P3's mutex profile it was the proxy's second most contended.
const leaveShardCount = 16

// initLeave makes leaveCtx, its shards and leaveNow, which ends them all.
func (s *Server) initLeave() {
	ctx, cancel := context.WithCancel(context.Background())
	stops := make([]context.CancelFunc, 0, leaveShardCount)
	for i := range s.leaveShards {
		var stop context.CancelFunc
		s.leaveShards[i], stop = context.WithCancel(ctx)
		stops = append(stops, stop)
	}
	s.leaveCtx = ctx
	s.leaveNow = func() {
		cancel() // ends the shards too; their own cancels only release them
		for _, stop := range stops {
			stop()
		}
	}
}

// pollContext bounds one upstream long-poll: Config.PollTimeout; while the proxy is leaving, leavingHold. A
// poll open when leaving starts ends at once. Either way context.Cause of the context is then errLeaving.
func (s *Server) pollContext(r *http.Request) (context.Context, context.CancelFunc) {
	if s.leaveCtx.Err() != nil {
		return context.WithTimeoutCause(r.Context(), leavingHold, errLeaving)
	}
	ctx, cancelTimeout := context.WithTimeout(r.Context(), s.cfg.PollTimeout)
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(s.leaveShards[s.leaveNext.Add(1)%leaveShardCount], func() { cancel(errLeaving) })
	return ctx, func() { stop(); cancel(context.Canceled); cancelTimeout() }
}

// writeInProgress answers a long-poll that leaving ended: the instruction is in progress as far as anyone
// knows (Payroc answers a final status at once, and only an instruction in progress is held), which is what
// an unchanged long-poll answers anyway. The page polls again.
func (s *Server) writeInProgress(w http.ResponseWriter, r *http.Request, id string) {
	inst := payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusInProgress,
		Link: &payroc.Link{Rel: "self", Method: http.MethodGet, Href: s.origin(r) + "/v1/refund-instructions/" + url.PathEscape(id)}}
	httpapi.WriteJSON(w, http.StatusOK, inst)
}

// pollFailed answers a status long-poll whose upstream call failed: the current status when leaving ended it,
// else the problem (nothing when the browser has left).
func (s *Server) pollFailed(ctx context.Context, w http.ResponseWriter, r *http.Request, id string, err error) {
	if errors.Is(context.Cause(ctx), errLeaving) && r.Context().Err() == nil {
		s.writeInProgress(w, r, id)
		return
	}
	if e := s.upstreamProblem(r, err); e != nil {
		writeProblem(w, e)
	}
}
