package server

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// holderProbe bounds the one status GET the proxy makes for a busy device's holder. Payroc holds a status
// GET open while the refund is in progress, so an answer still held after this long means "in progress".
const holderProbe = time.Second

// freeFinishedHolder is asked when a submit meets a busy device. The guard's instruction may have ended
// without anyone reading its status (an integration that never polls, a page closed right after the card),
// and the next cashier must not wait out the busy timeout for it. One status GET with a short deadline:
// when the answer is final, it is recorded as any status read's would be (audited, the device freed) and
// the submit may try the device again. Anything else (in progress, no answer in time, an error, the store
// away) leaves the guard as it is. The GET counts against the asking lane's cap on open long-polls
// (-max-polls), so device-busy submits cannot hold more upstream requests open than the lane's own watches.
func (s *Server) freeFinishedHolder(ctx context.Context, w http.ResponseWriter, laneID, serial string) bool {
	if !s.polls.acquire(laneID, s.cfg.MaxPollsPerLane) {
		return false
	}
	defer s.polls.release(laneID)
	rec, found, err := s.state.Holder(ctx, serial, s.now())
	if err != nil {
		s.stateFailed(err)
		return false
	}
	if !found {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, holderProbe)
	defer cancel()
	res, err := s.forward(pctx, w, httpapi.RouteGetInstruction, "GET", "/refund-instructions/"+url.PathEscape(rec.ID),
		payroc.Header{"accept": "application/json"}, nil)
	if err != nil || res.StatusCode != http.StatusOK {
		return false
	}
	inst := parseInstruction(res.Body)
	if inst == nil || inst.RefundInstructionID != rec.ID || !inst.Status.Final() {
		return false
	}
	return s.noteStatus(ctx, rec, inst) == nil
}
