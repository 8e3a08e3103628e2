package sim

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// Route names what a request is for, in the counters and in the test controls: httpapi.Route, the one
// route vocabulary the simulator and the proxy share.
type Route = httpapi.Route

// The routes. RouteAny in a control means any of the four refund endpoints (not identity).
const (
	RouteAny               Route = ""
	RouteIdentity                = httpapi.RouteIdentity
	RouteSubmit                  = httpapi.RouteSubmit
	RouteGetInstruction          = httpapi.RouteGetInstruction
	RouteCancelInstruction       = httpapi.RouteCancelInstruction
	RouteGetRefund               = httpapi.RouteGetRefund
	// RouteOther counts requests to unknown paths (404) and with wrong methods (405).
	RouteOther = httpapi.RouteOther
)

// controllable reports whether a control may name r.
func controllable(r Route) bool {
	switch r {
	case RouteAny, RouteIdentity, RouteSubmit, RouteGetInstruction, RouteCancelInstruction, RouteGetRefund:
		return true
	}
	return false
}

// appliesTo reports whether a control set for want applies to a request for route.
func appliesTo(want, route Route) bool {
	return want == route || want == RouteAny && route != RouteIdentity
}

// Errors of the Go controls (the HTTP controls answer them as 400, 404 and 409 problems).
var (
	ErrBadControl         = errors.New("sim: invalid control")
	ErrUnknownInstruction = errors.New("sim: no such refund instruction")
	ErrNotInProgress      = errors.New("sim: the instruction is no longer inProgress")
)

// FailOptions refine FailNext.
type FailOptions struct {
	// Route limits the fault to one route; RouteAny (the zero value) means any refund endpoint, and
	// RouteIdentity targets POST /authorize.
	Route Route `json:"route,omitempty"`
	// RetryAfter sets the Retry-After header (whole seconds, rounded up). Zero means 1s for 429 and 503 and
	// none otherwise.
	RetryAfter time.Duration `json:"-"`
	// Code is the problem type's slug; "" means the status's usual one (403 forbidden, 406 not-acceptable,
	// 429 rate-limited, 500 api-error, 503 service-unavailable…).
	Code string `json:"code,omitempty"`
	// Detail is the problem's detail; "" means a generic one.
	Detail string `json:"detail,omitempty"`
}

type fault struct {
	status int
	left   int
	opts   FailOptions
}

// problem is the document a forced failure answers with.
func (f *fault) problem() *payroc.Error {
	code := f.opts.Code
	if code == "" {
		code = payroc.CodeForStatus(f.status)
	}
	detail := f.opts.Detail
	if detail == "" {
		detail = "Simulated failure (" + http.StatusText(f.status) + ")"
	}
	p := httpapi.Problem("", code, detail)
	p.Status = f.status
	if p.Title == "" {
		p.Title = http.StatusText(f.status)
	}
	if f.status == http.StatusInternalServerError && len(p.Errors) == 0 {
		p.Errors = []payroc.FieldError{{Message: "Service offline"}} // Payroc's own sample
	}
	p.RetryAfter = f.opts.RetryAfter
	if p.RetryAfter <= 0 && (f.status == http.StatusTooManyRequests || f.status == http.StatusServiceUnavailable) {
		p.RetryAfter = time.Second
	}
	return p
}

type drop struct {
	route Route
	left  int
}

// hold is a HoldNext: the next left instructions submitted to device ("" any) stay inProgress.
type hold struct {
	device string
	left   int
}

// controls are the test knobs and counters. Guarded by Simulator.mu.
type controls struct {
	faults  []*fault
	drops   []*drop
	holds   []*hold
	latency map[Route]time.Duration

	identityCalls       int
	tokensIssued        int
	requests            map[Route]int
	instructionsCreated int
	refundsCreated      int
	instructionsByKey   map[string]int
	refundsByKey        map[string]int
}

func (c *controls) reset() {
	*c = controls{
		latency:           map[Route]time.Duration{},
		requests:          map[Route]int{},
		instructionsByKey: map[string]int{},
		refundsByKey:      map[string]int{},
	}
}

// FailNext makes the next n requests for opts.Route answer status (400–599) with a problem document, without
// being processed. Faults queue up in the order they are set; each request takes at most one.
func (s *Simulator) FailNext(n, status int, opts FailOptions) error {
	if n < 1 || status < 400 || status > 599 || !controllable(opts.Route) {
		return fmt.Errorf("%w: FailNext needs n ≥ 1, a status 400–599 and a known route (got %d, %d, %q)", ErrBadControl, n, status, opts.Route)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctl.faults = append(s.ctl.faults, &fault{status: status, left: n, opts: opts})
	return nil
}

// DropNext makes the next n requests for route be processed and recorded as usual (a submit creates its
// instruction), after which the connection is dropped without an answer. Over HTTP/1 the connection is
// hijacked and closed; over HTTP/2 the stream is reset; through Transport the round trip fails.
func (s *Simulator) DropNext(n int, route Route) error {
	if n < 1 || !controllable(route) {
		return fmt.Errorf("%w: DropNext needs n ≥ 1 and a known route (got %d, %q)", ErrBadControl, n, route)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctl.drops = append(s.ctl.drops, &drop{route: route, left: n})
	return nil
}

// HoldNext makes the next n instructions submitted to the device with serialNumber ("" means any device)
// stay inProgress whatever their amount says: their device never finishes them and they never time out. A
// test ends each one itself, with Finish or a DELETE (which outcome 5 still loses), or by closing the
// simulator. It is how a test keeps a refund in progress for as long as its own steps take, on however busy a
// machine, instead of racing Delay or Timeout. Holds queue up in the order they are set; each submit that
// makes an instruction takes at most one (a replay makes none and takes none).
func (s *Simulator) HoldNext(n int, serialNumber string) error {
	if _, known := s.bySerial[serialNumber]; n < 1 || serialNumber != "" && !known {
		return fmt.Errorf("%w: HoldNext needs n ≥ 1 and a known device or \"\" (got %d, %q)", ErrBadControl, n, serialNumber)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctl.holds = append(s.ctl.holds, &hold{device: serialNumber, left: n})
	return nil
}

// takeHoldLocked reports whether an instruction on device is to be held, using up one hold if so.
func (s *Simulator) takeHoldLocked(device string) bool {
	for i, h := range s.ctl.holds {
		if h.device == "" || h.device == device {
			h.left--
			if h.left == 0 {
				s.ctl.holds = append(s.ctl.holds[:i:i], s.ctl.holds[i+1:]...)
			}
			return true
		}
	}
	return false
}

// SetLatency adds d before every request for route is processed (RouteAny: every refund endpoint without a
// latency of its own). Zero removes it. A held long-poll's hold starts after the latency. A caller that leaves
// ends the wait early, and the request is then processed all the same, as Payroc goes on with a call whose
// answer nobody waits for: a long latency holds a call until its client gives up.
func (s *Simulator) SetLatency(route Route, d time.Duration) error {
	if d < 0 || !controllable(route) {
		return fmt.Errorf("%w: SetLatency needs d ≥ 0 and a known route (got %v, %q)", ErrBadControl, d, route)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == 0 {
		delete(s.ctl.latency, route)
	} else {
		s.ctl.latency[route] = d
	}
	return nil
}

// Finish ends an inProgress instruction now, as its device would: completed (approved, or declined when its
// amount ends in 01), failure (with an errorMessage) or canceled. It saves tests from waiting for Delay.
func (s *Simulator) Finish(refundInstructionID string, status payroc.Status) error {
	_, err := s.finish(refundInstructionID, status)
	return err
}

// finish is Finish that also returns the instruction as it ends.
func (s *Simulator) finish(id string, status payroc.Status) (instView, error) {
	if !status.Final() {
		return instView{}, fmt.Errorf("%w: Finish needs completed, failure or canceled (got %q)", ErrBadControl, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.insts[id]
	switch {
	case in == nil:
		return instView{}, ErrUnknownInstruction
	case in.status != payroc.StatusInProgress:
		return instView{}, ErrNotInProgress
	}
	switch status {
	case payroc.StatusCompleted:
		s.completeLocked(in, in.outcome != outcomeDeclined)
	case payroc.StatusFailure:
		s.finishLocked(in, payroc.StatusFailure, msgForced)
	default:
		s.finishLocked(in, payroc.StatusCanceled, "")
	}
	return in.view(), nil
}

// Reset clears the pending faults, drops, holds and latencies and zeroes the counters. Instructions, refunds,
// idempotency keys and tokens stay.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctl.reset()
}

// Stats are the simulator's counters (since New or the last Reset) and a view of its state.
type Stats struct {
	// IdentityCalls counts every POST /authorize; TokensIssued the ones that got a token.
	IdentityCalls int `json:"identityCalls"`
	TokensIssued  int `json:"tokensIssued"`
	// Requests counts every request received per route, including those failed or dropped by the controls.
	Requests map[Route]int `json:"requests"`
	// InstructionsCreated and RefundsCreated are totals; the ByKey maps count them per idempotency key (lower
	// case). A replay creates nothing, so a count above 1 means a refund was made twice. A key's counts go
	// when its instruction is forgotten (Retention, MaxInstructions).
	InstructionsCreated int            `json:"instructionsCreated"`
	RefundsCreated      int            `json:"refundsCreated"`
	InstructionsByKey   map[string]int `json:"instructionsByKey"`
	RefundsByKey        map[string]int `json:"refundsByKey"`
	// State, not counters: instructions in progress, instructions held in memory, long-polls held now, and
	// the forced failures, drops and instruction holds (HoldNext) still to come.
	InProgress    int `json:"inProgress"`
	Stored        int `json:"stored"`
	HeldPolls     int `json:"heldPolls"`
	PendingFaults int `json:"pendingFaults"`
	PendingDrops  int `json:"pendingDrops"`
	PendingHolds  int `json:"pendingHolds"`
}

// Stats returns a snapshot of the counters.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		IdentityCalls:       s.ctl.identityCalls,
		TokensIssued:        s.ctl.tokensIssued,
		Requests:            maps.Clone(s.ctl.requests),
		InstructionsCreated: s.ctl.instructionsCreated,
		RefundsCreated:      s.ctl.refundsCreated,
		InstructionsByKey:   maps.Clone(s.ctl.instructionsByKey),
		RefundsByKey:        maps.Clone(s.ctl.refundsByKey),
		Stored:              len(s.insts),
		HeldPolls:           s.held,
	}
	for _, in := range s.insts {
		if in.status == payroc.StatusInProgress {
			st.InProgress++
		}
	}
	for _, f := range s.ctl.faults {
		st.PendingFaults += f.left
	}
	for _, d := range s.ctl.drops {
		st.PendingDrops += d.left
	}
	for _, h := range s.ctl.holds {
		st.PendingHolds += h.left
	}
	return st
}

// InstructionsFor is how many instructions were created with the idempotency key (0 or 1 unless a key was
// forgotten and reused).
func (s *Simulator) InstructionsFor(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctl.instructionsByKey[lower(key)]
}

// RefundsFor is how many refunds were made under the idempotency key.
func (s *Simulator) RefundsFor(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctl.refundsByKey[lower(key)]
}

func (s *Simulator) count(route Route) {
	s.mu.Lock()
	s.ctl.requests[route]++
	s.mu.Unlock()
}

func (s *Simulator) latency(route Route) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.ctl.latency[route]; ok {
		return d
	}
	if route != RouteIdentity {
		return s.ctl.latency[RouteAny]
	}
	return 0
}

func (s *Simulator) takeFault(route Route) (*fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.ctl.faults {
		if appliesTo(f.opts.Route, route) {
			f.left--
			if f.left == 0 {
				s.ctl.faults = append(s.ctl.faults[:i:i], s.ctl.faults[i+1:]...)
			}
			return f, true
		}
	}
	return nil, false
}

func (s *Simulator) takeDrop(route Route) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range s.ctl.drops {
		if appliesTo(d.route, route) {
			d.left--
			if d.left == 0 {
				s.ctl.drops = append(s.ctl.drops[:i:i], s.ctl.drops[i+1:]...)
			}
			return true
		}
	}
	return false
}
