package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/internal/strict"
	"github.com/posrefund/cloud/payroc"
)

// serveAPI answers one of the four refund endpoints; route is already matched.
func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request, route Route, param string) {
	// A closed simulator answers no API call: a GET of an inProgress instruction that answered at once,
	// unheld, would send a long-polling client into a tight loop, and a DELETE would get a misleading 409.
	if s.isClosed() {
		drain(r)
		httpapi.WriteProblem(w, unavailable("The simulator is closed"))
		return
	}
	if p := s.bearerProblem(w, r); p != nil {
		drain(r)
		httpapi.WriteProblem(w, p)
		return
	}
	if !acceptsJSON(r) {
		drain(r)
		httpapi.WriteProblem(w, notAcceptable())
		return
	}
	if p := paramProblem(route, param); p != nil {
		drain(r)
		httpapi.WriteProblem(w, p)
		return
	}
	switch route {
	case RouteSubmit:
		s.submit(w, r, param)
	case RouteGetInstruction:
		s.getInstruction(w, r, param)
	case RouteCancelInstruction:
		drain(r)
		s.cancel(w, r, param)
	case RouteGetRefund:
		drain(r)
		s.getRefund(w, r, param)
	}
}

// paramProblem is the 400 for a path parameter outside the lengths Payroc's spec gives it (serialNumber
// 1–64, refundInstructionId 1–36, refundId exactly 10), or nil. Payroc validates these before looking
// anything up, so such an id is a bad request rather than not found.
func paramProblem(route Route, param string) *payroc.Error {
	n := utf8.RuneCountInString(param)
	var name, msg string
	switch {
	case route == RouteSubmit && n > 64:
		name, msg = "serialNumber", "must be 1 to 64 characters"
	case (route == RouteGetInstruction || route == RouteCancelInstruction) && n > 36:
		name, msg = "refundInstructionId", "must be 1 to 36 characters"
	case route == RouteGetRefund && n != 10:
		name, msg = "refundId", "must be exactly 10 characters"
	default:
		return nil
	}
	return httpapi.Problem("", payroc.CodeBadRequest,
		"One or more validation errors occurred, see error section for more info",
		payroc.FieldError{Parameter: name, Message: msg})
}

// submit is POST /devices/{serialNumber}/refund-instructions. The checks run in this order: Idempotency-Key
// present (400 idempotency-key-missing) and a UUID v4 (400 bad-request), a JSON body (415), the body valid
// (400 with errors[]), the device known (404), the terminal the device's (400), then the key's replay rule
// (same request: the original instruction; another request: 409 idempotency-key-in-use).
func (s *Simulator) submit(w http.ResponseWriter, r *http.Request, serial string) {
	key, req, dev, e := s.checkSubmit(r, serial)
	if e != nil {
		httpapi.WriteProblem(w, e)
		return
	}
	v, outcome, e := s.instructionFor(key, serial, req, dev)
	if e != nil {
		httpapi.WriteProblem(w, e)
		return
	}
	if outcome != "" {
		s.log.Info("payroc sim instruction created", "refundInstructionId", v.id, "serialNumber", serial,
			"amount", req.Order.Amount, "currency", req.Order.Currency, "outcome", outcome)
	}
	httpapi.WriteJSON(w, http.StatusAccepted, v.wire(origin(r)))
}

// checkSubmit runs a submit's checks, in the order submit documents, up to the replay rule; it returns the
// key in canonical (lower-case) form, the request and the device.
func (s *Simulator) checkSubmit(r *http.Request, serial string) (string, *payroc.RefundInstructionRequest, Device, *payroc.Error) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, payroc.MaxRequestBytes+1))
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" {
		return "", nil, Device{}, httpapi.Problem("", payroc.CodeIdempotencyKeyMissing,
			"An 'Idempotency-Key' must be supplied for this request",
			payroc.FieldError{Parameter: "Idempotency-Key", Message: "is required"})
	}
	key, err := payroc.ParseIdempotencyKey(key)
	if err != nil {
		return "", nil, Device{}, badRequest(err)
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		return "", nil, Device{}, httpapi.Problem("", payroc.CodeUnsupportedMediaType, "The body must be application/json")
	}
	req, err := strict.DecodeRefundInstructionRequest(body)
	if err != nil {
		return "", nil, Device{}, badRequest(err)
	}
	dev, ok := s.bySerial[serial]
	if !ok {
		p := httpapi.Problem("", payroc.CodeNotFound, "No device with serial number "+strconv.Quote(serial))
		p.Resource = "device"
		return "", nil, Device{}, p
	}
	if req.ProcessingTerminalID != dev.ProcessingTerminalID {
		return "", nil, Device{}, httpapi.Problem("", payroc.CodeBadRequest,
			"One or more validation errors occurred, see error section for more info",
			payroc.FieldError{Parameter: "processingTerminalId", Message: "is not the processing terminal of device " + serial})
	}
	return key, req, dev, nil
}

// instructionFor applies the key's replay rule: the same request again gets the original instruction,
// another request a 409; a new key makes a new instruction, and outcome says what its device will do ("" for
// a replay).
func (s *Simulator) instructionFor(key, serial string, req *payroc.RefundInstructionRequest, dev Device) (v instView, outcome string, e *payroc.Error) {
	// The replay rule compares the parsed request (and the device), not the bytes: a retry that re-encodes
	// the same request differently is still the same request.
	canon, _ := json.Marshal(struct {
		Serial string                           `json:"serialNumber"`
		Req    *payroc.RefundInstructionRequest `json:"request"`
	}{serial, req})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return v, "", unavailable("The simulator is closed")
	}
	now := s.now()
	s.expireLocked(now)
	if in := s.byKey[key]; in != nil {
		if !bytes.Equal(in.canon, canon) {
			return v, "", httpapi.Problem("", payroc.CodeIdempotencyKeyInUse,
				"'Idempotency-Key' is already in use against a different request",
				payroc.FieldError{Parameter: "Idempotency-Key", Message: "was used with another request body or device"})
		}
		return in.view(), "", nil
	}
	if !s.makeRoomLocked() {
		p := unavailable("The simulator holds too many instructions in progress")
		p.RetryAfter = time.Second
		return v, "", p
	}
	in := s.createLocked(key, canon, dev, req, now)
	return in.view(), in.outcome.String(), nil
}

// getInstruction is GET /refund-instructions/{id}: a long-poll. While the instruction is inProgress the
// answer waits up to Hold for a change, and comes the moment the status changes, the client leaves, or the
// simulator closes.
func (s *Simulator) getInstruction(w http.ResponseWriter, r *http.Request, id string) {
	// Read the (empty) body to its end first: only then does net/http watch the connection and cancel the
	// request's context when the client goes away.
	drain(r)
	s.mu.Lock()
	s.expireLocked(s.now())
	in := s.insts[id]
	if in == nil {
		s.mu.Unlock()
		writeNotFound(w, "refundInstruction", "No refund instruction "+strconv.Quote(id))
		return
	}
	if in.status == payroc.StatusInProgress && !s.closed {
		ch := in.changed
		in.waiters++
		s.held++
		s.mu.Unlock()
		// A server's WriteTimeout shorter than the hold must not cut the answer off.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.Hold + 30*time.Second))
		t := time.NewTimer(s.cfg.Hold)
		var expired, left bool
		select {
		case <-ch:
		case <-t.C:
			expired = true
		case <-r.Context().Done():
			left = true
		case <-s.done:
		}
		t.Stop()
		s.mu.Lock()
		in.waiters--
		s.held--
		switch {
		case expired && in.status == payroc.StatusInProgress:
			s.holdExpiredLocked(in)
		case !expired:
			s.waiterLeftLocked(in)
		}
		if left {
			s.mu.Unlock()
			return
		}
	}
	v := in.view()
	s.mu.Unlock()
	httpapi.WriteJSON(w, http.StatusOK, v.wire(origin(r)))
}

// cancel is DELETE /refund-instructions/{id}: 204 while inProgress, else 409 cannot-be-canceled (with the
// refund link when completed). Outcome 5 completes as the cancel arrives, so the cancel loses the race.
func (s *Simulator) cancel(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	s.expireLocked(s.now())
	in := s.insts[id]
	if in == nil {
		s.mu.Unlock()
		writeNotFound(w, "refundInstruction", "No refund instruction "+strconv.Quote(id))
		return
	}
	if in.status == payroc.StatusInProgress && !s.closed {
		if in.outcome == outcomeCancelLoses {
			s.completeLocked(in, true)
		} else {
			s.finishLocked(in, payroc.StatusCanceled, "")
			s.mu.Unlock()
			s.log.Info("payroc sim instruction canceled", "refundInstructionId", id)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	v := in.view()
	s.mu.Unlock()
	var msg string
	switch v.status {
	case payroc.StatusCompleted:
		msg = "Completed instruction cannot be canceled"
	case payroc.StatusFailure:
		msg = "Failed instruction cannot be canceled"
	case payroc.StatusCanceled:
		msg = "Canceled instruction cannot be canceled"
	default: // closed simulator
		msg = "The instruction cannot be canceled now"
	}
	p := httpapi.Problem("", payroc.CodeCannotBeCanceled, "You cannot cancel this resource in its current state",
		payroc.FieldError{Parameter: "refundInstructionId", Message: msg})
	if v.status == payroc.StatusCompleted {
		p.Link = v.wire(origin(r)).Link
	}
	httpapi.WriteProblem(w, p)
}

// getRefund is GET /refunds/{refundId}.
func (s *Simulator) getRefund(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	s.expireLocked(s.now())
	in := s.refunds[id]
	var ref payroc.Refund
	if in != nil {
		ref = *in.refund
	}
	s.mu.Unlock()
	if in == nil {
		writeNotFound(w, "refund", "No refund "+strconv.Quote(id))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, &ref)
}

// origin is the simulator's own origin as the client reached it; links are absolute URLs on it.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host
}

// acceptsJSON reports whether the Accept header allows JSON or problem+json (absent means anything).
func acceptsJSON(r *http.Request) bool {
	vals := r.Header.Values("Accept")
	seen := false
	for _, v := range vals {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, _ := strings.Cut(part, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if mt == "" {
				continue
			}
			seen = true
			if qZero(params) {
				continue
			}
			switch {
			case mt == "*/*", mt == "application/*", mt == "application/json", mt == "application/problem+json":
				return true
			}
		}
	}
	return !seen
}

func qZero(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}

func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

func badRequest(err error) *payroc.Error {
	return httpapi.Problem("", payroc.CodeBadRequest,
		"One or more validation errors occurred, see error section for more info", payroc.AsError(err).Errors...)
}

func notAcceptable() *payroc.Error {
	return httpapi.Problem("", payroc.CodeNotAcceptable, "Only application/json (and application/problem+json for errors) can be served")
}

func unavailable(detail string) *payroc.Error {
	p := httpapi.Problem("", "service-unavailable", detail)
	p.Status = http.StatusServiceUnavailable
	p.Title = http.StatusText(http.StatusServiceUnavailable)
	return p
}

func writeNotFound(w http.ResponseWriter, resource, detail string) {
	p := httpapi.Problem("", payroc.CodeNotFound, detail)
	p.Resource = resource
	httpapi.WriteProblem(w, p)
}

// drain reads what is left of a request body (bounded), so net/http notices a client that goes away.
func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, payroc.MaxRequestBytes+1))
	}
}

// bufferBody reads the request's body (up to the API's limit and one byte more) into memory and puts it back
// for the handler.
func bufferBody(r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, payroc.MaxRequestBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{err}))
}

// errReader returns its error, or io.EOF when it has none.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
