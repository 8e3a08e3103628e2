package server

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/internal/strict"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/state"
)

// serveAPI answers /v1/...: exactly the four refund routes, after CORS, origin, lane-token and rate checks.
// Nothing else is ever sent upstream. It labels sw with the route as soon as the route is known, before any
// check or handler runs, so every line written while serving it (a panic, a refused bearer) names the route.
func (s *Server) serveAPI(sw *statusWriter, r *http.Request) {
	sw.route = "other"
	if s.preflight(sw, r) {
		sw.route = "preflight"
		return
	}
	rest, _ := httpapi.TrimV1(r.URL.EscapedPath())
	route, param, allow := httpapi.RouteNone, "", ""
	if path.Clean(rest) == rest { // exact paths only: no "//", trailing "/", "." or ".." segments
		route, param, allow = httpapi.Match(r.Method, rest)
	}
	if route == httpapi.RouteNone {
		if allow != "" {
			writeProblem(sw, methodNotAllowed(sw, allow))
		} else {
			writeProblem(sw, notFound())
		}
		return
	}
	sw.route = route.String()
	if s.crossOriginRefused(r) {
		writeProblem(sw, crossOriginProblem())
		return
	}
	// The token's revocation and rate are checked with each route's first state call: one round trip.
	c, perr := s.authenticate(sw, r)
	if perr != nil {
		writeProblem(sw, perr)
		return
	}
	if route != httpapi.RouteSubmit && !s.drainBody(sw, r) {
		return
	}
	switch route {
	case httpapi.RouteSubmit:
		s.submit(sw, r, c, param)
	case httpapi.RouteGetInstruction:
		s.getInstruction(sw, r, c, param)
	case httpapi.RouteCancelInstruction:
		s.cancel(sw, r, c, param)
	case httpapi.RouteGetRefund:
		s.getRefund(sw, r, c, param)
	}
}

// drainBody reads (and discards) a bodiless route's body within the size limit: a handler that never reads
// the body does not notice the client leaving, and a long-poll must.
func (s *Server) drainBody(w http.ResponseWriter, r *http.Request) bool {
	if _, e := s.readBody(w, r); e != nil {
		writeProblem(w, e)
		return false
	}
	return true
}

// submit reads as auth (done by serveAPI) -> policy -> state -> forward: validate the request and check the
// lane's scope, hold the device, then forward once and file what came back.
func (s *Server) submit(w http.ResponseWriter, r *http.Request, c *lane.Claims, serial string) {
	req, body, key, e := s.checkSubmit(w, r, c, serial, r.Header.Get("Idempotency-Key"))
	if e != nil {
		// A refused submit still counts against its token's rate (and a revoked token hears so); with the
		// state down the refusal itself still stands.
		if a, err := s.state.Admit(r.Context(), c.ID, s.now()); err == nil && !a.OK() {
			e = s.admission(w, a, nil)
		}
		s.refuseSubmit(w, r, c, serial, key, e)
		return
	}
	now := s.now()
	a, held, err := s.state.Reserve(r.Context(), c.ID, state.Reservation{Serial: serial, Key: key, Lane: c.Lane}, now)
	if e := s.admission(w, a, err); e != nil {
		s.refuseSubmit(w, r, c, serial, key, e)
		return
	}
	if held == state.DeviceBusy && s.freeFinishedHolder(r.Context(), w, c.Lane, serial) {
		// The retry is the same request, already admitted: no token id, so the store neither checks the
		// revocation again nor takes a second request from the token's rate.
		now = s.now()
		a, held, err = s.state.Reserve(r.Context(), "", state.Reservation{Serial: serial, Key: key, Lane: c.Lane}, now)
		if e := s.admission(w, a, err); e != nil {
			s.refuseSubmit(w, r, c, serial, key, e)
			return
		}
	}
	switch held {
	case state.DeviceBusy:
		s.refuseSubmit(w, r, c, serial, key, problem(payroc.CodeDeviceBusy, "Another refund is in progress on device "+serial))
		return
	case state.KeyElsewhere:
		s.refuseSubmit(w, r, c, serial, key, httpapi.Problem("", payroc.CodeIdempotencyKeyInUse, "This Idempotency-Key belongs to another lane"))
		return
	}
	h := payroc.Header{"content-type": "application/json", "idempotency-key": key, "accept": acceptOf(r)}
	// The submit runs to its end even if the browser leaves: the device may already be showing the refund,
	// and the proxy must learn the instruction id to keep its guard and audit right.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.CallTimeout)
	defer cancel()
	res, err := s.forward(ctx, w, httpapi.RouteSubmit, "POST", "/devices/"+url.PathEscape(serial)+"/refund-instructions", h, body)
	rec := &state.Instruction{Serial: serial, Key: key, Lane: c.Lane, TokenID: c.ID, Amount: req.Order.Amount,
		Currency: req.Order.Currency, OrderID: req.Order.OrderID, SubmittedAt: now}
	if err != nil {
		s.submitFailed(w, r, rec, err)
		return
	}
	s.submitAnswered(w, r, rec, res)
}

// refuseSubmit audits and answers a submit the proxy refused before sending anything.
func (s *Server) refuseSubmit(w http.ResponseWriter, r *http.Request, c *lane.Claims, serial, key string, e *payroc.Error) {
	s.audit(r.Context(), "submit", slog.String("idempotencyKey", auditKey(key)), slog.String("laneTokenId", c.ID),
		slog.String("lane", c.Lane), slog.String("serialNumber", auditSerial(serial)), slog.Int("status", e.Status),
		slog.String("result", e.Code))
	writeProblem(w, e)
}

// checkSubmit is the submit's policy: the body, headers and path parameter are valid, and the refund lies in
// the lane's scope and on the device's terminal. It returns the request, the bytes to forward and the
// Idempotency-Key in canonical form: the key is read here, once, where it enters the proxy, so the device
// guard, key ownership, the state and the audit all see one spelling (on a refusal, the header as sent).
func (s *Server) checkSubmit(w http.ResponseWriter, r *http.Request, c *lane.Claims, serial, key string) (*payroc.RefundInstructionRequest, []byte, string, *payroc.Error) {
	body, e := s.readBody(w, r)
	if e != nil {
		return nil, nil, key, e
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" { // the usual one needs no parsing
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, nil, key, problem(payroc.CodeUnsupportedMediaType, "The body must be application/json")
		}
	}
	if key == "" {
		return nil, nil, key, httpapi.Problem("", payroc.CodeIdempotencyKeyMissing, "The Idempotency-Key header is required (a UUID v4)",
			payroc.FieldError{Parameter: "Idempotency-Key", Message: "is required"})
	}
	canonical, err := payroc.ParseIdempotencyKey(key)
	if err != nil {
		return nil, nil, key, badRequest("The Idempotency-Key must be a UUID v4", payroc.AsError(err).Errors...)
	}
	if !plantedKeySpelling { // the model's planted bug; never set outside its test
		key = canonical
	}
	if err := payroc.ValidateSerialNumber(serial); err != nil {
		return nil, nil, key, badRequest("The serial number is not valid", payroc.AsError(err).Errors...)
	}
	req, err := strict.DecodeRefundInstructionRequest(body)
	if err != nil {
		return nil, nil, key, badRequest("One or more validation errors occurred, see errors for more info", payroc.AsError(err).Errors...)
	}
	// Upstream gets the request as checked, encoded afresh, never the browser's bytes: a body that another
	// parser would read otherwise (duplicate or case-folded member names, invalid UTF-8) cannot carry an
	// amount, currency or terminal past the checks below. The encoding is the payroc client's own, so the
	// page's bytes and a replay's are unchanged.
	if body, err = strict.Encode(req); err != nil {
		return nil, nil, key, problem(payroc.CodeInternalError, "The request could not be encoded")
	}
	return req, body, key, s.checkScope(c, serial, req)
}

// checkScope: the device is one this proxy drives and the lane may use, the currency and amount are the
// lane's, and the terminal is the device's.
func (s *Server) checkScope(c *lane.Claims, serial string, req *payroc.RefundInstructionRequest) *payroc.Error {
	dev, known := s.devices[serial]
	if !known {
		return problem(payroc.CodeOutOfScope, "This lane may not use device "+serial,
			payroc.FieldError{Parameter: "serialNumber", Message: "is not a device of this lane"})
	}
	if se := c.CheckRefund(serial, req.Order.Amount, req.Order.Currency, s.cfg.MaxAmount); se != nil {
		return problem(payroc.CodeOutOfScope, se.Detail, payroc.FieldError{Parameter: se.Field, Message: se.Message})
	}
	if req.ProcessingTerminalID != dev.TerminalID {
		return badRequest("The processing terminal is not the device's",
			payroc.FieldError{Parameter: "processingTerminalId", Message: "must be " + dev.TerminalID + " for device " + serial})
	}
	return nil
}

// submitAttrs are a forwarded submit's audit fields, with room for status, result and the instruction id.
func submitAttrs(rec *state.Instruction) []slog.Attr {
	attrs := make([]slog.Attr, 0, 10) // one allocation
	return append(attrs, slog.String("idempotencyKey", rec.Key), slog.String("laneTokenId", rec.TokenID), slog.String("lane", rec.Lane),
		slog.String("serialNumber", rec.Serial), slog.Int64("amount", rec.Amount), slog.String("currency", rec.Currency),
		slog.String("orderId", rec.OrderID))
}

// submitFailed answers a submit that got no answer from upstream.
func (s *Server) submitFailed(w http.ResponseWriter, r *http.Request, rec *state.Instruction, err error) {
	e := s.detachedProblem(r, err)
	// Without a bearer nothing was sent (payroc.NothingCreated). Any other failure leaves it unknown whether
	// the device got it: the guard stays until the same key is replayed (which passes) or it times out. A
	// settle that fails leaves the guard to time out: the safe side.
	_, _ = s.settle(r.Context(), state.Settlement{Serial: rec.Serial, Key: rec.Key, NothingCreated: payroc.NothingCreated(e)})
	s.audit(r.Context(), "submit", append(submitAttrs(rec), slog.Int("status", e.Status), slog.String("result", e.Code))...)
	writeProblem(w, e)
}

// submitAnswered files upstream's answer to a submit (the instruction it made, for this lane) and passes it on.
func (s *Server) submitAnswered(w http.ResponseWriter, r *http.Request, rec *state.Instruction, res *payroc.Response) {
	// A refusal made nothing on the device (payroc.NothingCreated, the rule the browser's records follow too).
	// Anything else may have.
	nothing := res.StatusCode >= 300 && payroc.NothingCreated(payroc.ParseProblem(res.StatusCode, res.Header, res.Body))
	settle := state.Settlement{Serial: rec.Serial, Key: rec.Key, NothingCreated: nothing}
	attrs := append(submitAttrs(rec), slog.Int("status", res.StatusCode))
	var inst *payroc.RefundInstruction
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if inst = parseInstruction(res.Body); inst != nil {
			rec.ID = inst.RefundInstructionID
			settle.Accepted, settle.Status, settle.RefundID = rec, inst.Status, refundIDOf(inst)
		}
	}
	// One call: the guard's end of this submit, the instruction filed for this lane, its status noted.
	done, err := s.settle(r.Context(), settle)
	switch {
	case res.StatusCode < 200 || res.StatusCode >= 300:
		s.audit(r.Context(), "submit", append(attrs, slog.String("result", payroc.ParseProblem(res.StatusCode, res.Header, res.Body).Code))...)
	case inst == nil:
		s.audit(r.Context(), "submit", append(attrs, slog.String("result", "unreadable-answer"))...)
	case err != nil:
		// Payroc has the instruction but no instance could find it again: the page replays the submit with
		// the same key once the state is back, and Payroc answers with this same instruction.
		s.audit(r.Context(), "submit", append(attrs, slog.String("refundInstructionId", inst.RefundInstructionID),
			slog.String("result", payroc.CodeStateUnavailable))...)
		if inst.Status.Final() {
			// The store may have marked it audited before its answer was lost: audit it here (see noteStatus).
			s.auditFinal(r.Context(), *rec, inst)
		}
		writeProblem(w, stateUnavailable())
		return
	case done.Foreign:
		s.audit(r.Context(), "submit", append(attrs, slog.String("result", "refused-foreign-instruction"))...)
		writeProblem(w, httpapi.Problem("", payroc.CodeIdempotencyKeyInUse, "This Idempotency-Key belongs to another lane"))
		return
	default:
		s.audit(r.Context(), "submit", append(attrs, slog.String("refundInstructionId", inst.RefundInstructionID),
			slog.String("result", string(inst.Status)))...)
		if done.Audit {
			s.auditFinal(r.Context(), done.Record, inst)
		}
	}
	s.writeUpstream(w, r, httpapi.RouteSubmit, res)
}

// settle reports how a reserved submit ended (it runs to its end even if the browser has left); a store
// failure is counted, logged and returned.
func (s *Server) settle(ctx context.Context, st state.Settlement) (state.Settled, error) {
	done, err := s.state.Settle(context.WithoutCancel(ctx), st, s.now())
	if err != nil {
		s.stateFailed(err)
	}
	return done, err
}

// getInstruction: one long-poll, passed through; the browser leaving cancels it upstream at once.
func (s *Server) getInstruction(w http.ResponseWriter, r *http.Request, c *lane.Claims, id string) {
	rec, ok := s.lookup(w, r, c, id)
	if !ok {
		return
	}
	if !s.polls.acquire(c.Lane, s.cfg.MaxPollsPerLane) {
		e := problem(payroc.CodeRateLimited, "Too many status requests are open for this lane; wait for one to answer")
		e.RetryAfter = time.Second
		writeProblem(w, e)
		return
	}
	defer s.polls.release(c.Lane)
	s.metrics.longPolls.Inc()
	defer s.metrics.longPolls.Dec()
	ctx, cancel := s.pollContext(r)
	defer cancel()
	res, err := s.forward(ctx, w, httpapi.RouteGetInstruction, "GET", "/refund-instructions/"+url.PathEscape(id),
		payroc.Header{"accept": acceptOf(r)}, nil)
	if err != nil {
		s.pollFailed(ctx, w, r, id, err)
		return
	}
	// Only a final status changes the state: Lookup has already kept the device held for a watched refund,
	// so a status still in progress costs no second state call (a round trip on a shared store).
	if res.StatusCode == http.StatusOK {
		if inst := parseInstruction(res.Body); inst != nil && inst.RefundInstructionID == id && inst.Status.Final() {
			if err := s.noteStatus(r.Context(), rec, inst); err != nil {
				// A final status the state has not taken would keep the device held and the refund unknown:
				// the page asks again (a status GET changes nothing upstream) once the state is back.
				writeProblem(w, stateUnavailable())
				return
			}
		}
	}
	s.writeUpstream(w, r, httpapi.RouteGetInstruction, res)
}

// cancel forwards a DELETE; a 204 or a 409 means the instruction is over and the device is free.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, c *lane.Claims, id string) {
	rec, ok := s.lookup(w, r, c, id)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.CallTimeout)
	defer cancel()
	res, err := s.forward(ctx, w, httpapi.RouteCancelInstruction, "DELETE", "/refund-instructions/"+url.PathEscape(id),
		payroc.Header{"accept": acceptOf(r)}, nil)
	base := []slog.Attr{slog.String("idempotencyKey", rec.Key), slog.String("laneTokenId", c.ID), slog.String("lane", c.Lane),
		slog.String("serialNumber", rec.Serial), slog.String("refundInstructionId", id)}
	if err != nil {
		e := s.detachedProblem(r, err)
		s.audit(r.Context(), "cancel", append(base, slog.Int("status", e.Status), slog.String("result", e.Code))...)
		writeProblem(w, e)
		return
	}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		s.audit(r.Context(), "cancel", append(base, slog.Int("status", res.StatusCode), slog.String("result", "canceled"))...)
		_ = s.noteStatus(r.Context(), rec, &payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusCanceled})
	case res.StatusCode == http.StatusConflict:
		p := payroc.ParseProblem(res.StatusCode, res.Header, res.Body)
		result := p.Code
		if refundID := payroc.RefundIDFromLink(p.Link); refundID != "" && p.Code == payroc.CodeCannotBeCanceled {
			// The device finished first: the 409 carries the refund link.
			result = "completed-first"
			s.audit(r.Context(), "cancel", append(base, slog.Int("status", res.StatusCode), slog.String("result", result))...)
			_ = s.noteStatus(r.Context(), rec, &payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusCompleted, Link: p.Link})
		} else {
			s.audit(r.Context(), "cancel", append(base, slog.Int("status", res.StatusCode), slog.String("result", result))...)
			if p.Code == payroc.CodeCannotBeCanceled {
				// Failed or canceled already: final, but which one a GET will say. Should the state be away,
				// the next status GET frees the device.
				if err := s.state.Release(context.WithoutCancel(r.Context()), id, s.now()); err != nil {
					s.stateFailed(err)
				}
			}
		}
	default:
		s.audit(r.Context(), "cancel", append(base, slog.Int("status", res.StatusCode),
			slog.String("result", payroc.ParseProblem(res.StatusCode, res.Header, res.Body).Code))...)
	}
	s.writeUpstream(w, r, httpapi.RouteCancelInstruction, res)
}

// getRefund answers only for refunds that came of this lane's instructions.
func (s *Server) getRefund(w http.ResponseWriter, r *http.Request, c *lane.Claims, id string) {
	a, owner, err := s.state.RefundLane(r.Context(), c.ID, id, s.now())
	if e := s.admission(w, a, err); e != nil {
		writeProblem(w, e)
		return
	}
	if owner != c.Lane {
		writeProblem(w, notFound())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CallTimeout)
	defer cancel()
	res, err := s.forward(ctx, w, httpapi.RouteGetRefund, "GET", "/refunds/"+url.PathEscape(id), payroc.Header{"accept": acceptOf(r)}, nil)
	if err != nil {
		if e := s.upstreamProblem(r, err); e != nil {
			writeProblem(w, e)
		}
		return
	}
	s.writeUpstream(w, r, httpapi.RouteGetRefund, res)
}

// lookup is the opening of the routes on one instruction: the request's admission (revocation, rate) and
// the instruction's lane, in one state call. An instruction of another lane, or unknown, is a 404. It
// answers the refusal itself and reports whether the request may go on.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, c *lane.Claims, id string) (state.Instruction, bool) {
	a, rec, found, err := s.state.Lookup(r.Context(), c.ID, id, c.Lane, s.now())
	if e := s.admission(w, a, err); e != nil {
		writeProblem(w, e)
		return state.Instruction{}, false
	}
	if !found {
		writeProblem(w, notFound())
		return state.Instruction{}, false
	}
	return rec, true
}

// noteStatus files a status the proxy saw; the first final one (across instances) frees the device and is
// audited. A store failure is counted, logged and returned: the cancel paths have already acted upstream and
// answer as Payroc did (the next status GET files the outcome); a status GET answers 503 instead.
//
// A failed call may still have run (its answer timed out on the way back), marking the outcome audited in
// the store: no later call would then say "first time". So on a failure a final status is audited here,
// from known (the record the request looked up), and this instance remembers it and does not audit it
// again: every final outcome is audited at least once, and at most once per instance.
func (s *Server) noteStatus(ctx context.Context, known state.Instruction, inst *payroc.RefundInstruction) error {
	rec, auditNow, err := s.state.Observe(context.WithoutCancel(ctx), inst.RefundInstructionID, inst.Status, refundIDOf(inst), s.now())
	if err != nil {
		s.stateFailed(err)
		if inst.Status.Final() && known.ID == inst.RefundInstructionID {
			s.auditFinal(ctx, known, inst)
		}
		return err
	}
	if auditNow {
		s.auditFinal(ctx, rec, inst)
	}
	return nil
}

// refundIDOf is the refund id of a completed instruction ("" otherwise).
func refundIDOf(inst *payroc.RefundInstruction) string {
	if inst.Status == payroc.StatusCompleted {
		return payroc.RefundIDFromLink(inst.Link)
	}
	return ""
}

// auditFinal writes the audit line of an instruction's final outcome, once per instance.
func (s *Server) auditFinal(ctx context.Context, rec state.Instruction, inst *payroc.RefundInstruction) {
	if !s.audited.add(rec.ID) {
		return
	}
	refundID := refundIDOf(inst)
	attrs := make([]slog.Attr, 0, 12) // room for refundId and errorMessage: one allocation
	attrs = append(attrs, slog.String("idempotencyKey", rec.Key), slog.String("laneTokenId", rec.TokenID), slog.String("lane", rec.Lane),
		slog.String("serialNumber", rec.Serial), slog.String("refundInstructionId", rec.ID), slog.Int64("amount", rec.Amount),
		slog.String("currency", rec.Currency), slog.String("orderId", rec.OrderID), slog.String("result", string(inst.Status)),
		slog.Int64("sinceSubmitMs", s.now().Sub(rec.SubmittedAt).Milliseconds()))
	if refundID != "" {
		attrs = append(attrs, slog.String("refundId", refundID))
	}
	if inst.ErrorMessage != "" {
		attrs = append(attrs, slog.String("errorMessage", inst.ErrorMessage))
	}
	s.audit(ctx, "final", attrs...)
}

// audit writes one audit line: event submit, cancel or final, keyed by Idempotency-Key and lane token id.
func (s *Server) audit(ctx context.Context, event string, attrs ...slog.Attr) {
	s.logAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "audit", slog.String("event", event), attrs...)
}

// auditKey keeps a refused submit's key in the audit line only when it is a well-formed key (a malformed
// header could be anything, even a pasted secret).
func auditKey(k string) string {
	if canonical, err := payroc.ParseIdempotencyKey(k); err == nil {
		return canonical
	}
	if k == "" {
		return ""
	}
	return "(malformed)"
}

// auditSerial keeps a refused submit's serial number (a path segment) in the audit line only when it is a
// well-formed one, as auditKey does for its key.
func auditSerial(serial string) string {
	if payroc.ValidateSerialNumber(serial) == nil {
		return serial
	}
	return "(malformed)"
}

// acceptOf passes the browser's Accept through (it is on the allowlist), defaulting to JSON.
func acceptOf(r *http.Request) string {
	if a := r.Header.Get("Accept"); a != "" && len(a) < 256 {
		return a
	}
	return "application/json"
}
