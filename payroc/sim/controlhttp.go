package sim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// serveControl answers the test controls under /sim/ (see the package documentation). They need no bearer:
// serve the simulator only where tests may reach it.
func (s *Simulator) serveControl(w http.ResponseWriter, r *http.Request) {
	method, serve := s.control(strings.TrimPrefix(r.URL.Path, "/sim/"))
	if serve == nil {
		drain(r)
		httpapi.WriteProblem(w, httpapi.Problem("", payroc.CodeNotFound, "No simulator control "+strconv.Quote(r.URL.Path)))
		return
	}
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		drain(r)
		w.Header().Set("Allow", method)
		httpapi.WriteProblem(w, httpapi.Problem("", payroc.CodeMethodNotAllowed, r.Method+" is not allowed here; use "+method))
		return
	}
	serve(w, r)
}

// control returns the method and handler of the control called name, or a nil handler.
func (s *Simulator) control(name string) (method string, serve http.HandlerFunc) {
	switch name {
	case "stats":
		return http.MethodGet, s.controlStats
	case "devices":
		return http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"devices": s.Devices()})
		}
	case "reset":
		return http.MethodPost, func(w http.ResponseWriter, r *http.Request) {
			drain(r)
			s.Reset()
			w.WriteHeader(http.StatusNoContent)
		}
	case "fail":
		return http.MethodPost, s.controlFail
	case "drop":
		return http.MethodPost, s.controlDrop
	case "hold":
		return http.MethodPost, s.controlHold
	case "latency":
		return http.MethodPost, s.controlLatency
	case "finish":
		return http.MethodPost, s.controlFinish
	}
	return "", nil
}

// controlStats answers GET /sim/stats; ?key= narrows the per-key counters to one Idempotency-Key.
func (s *Simulator) controlStats(w http.ResponseWriter, r *http.Request) {
	st := s.Stats()
	if k := r.URL.Query().Get("key"); k != "" {
		k = lower(k)
		st.InstructionsByKey = map[string]int{k: st.InstructionsByKey[k]}
		st.RefundsByKey = map[string]int{k: st.RefundsByKey[k]}
	}
	httpapi.WriteJSON(w, http.StatusOK, st)
}

func (s *Simulator) controlFail(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Status     int          `json:"status"`
		Count      int          `json:"count"`
		Route      Route        `json:"route"`
		RetryAfter jsonDuration `json:"retryAfter"`
		Code       string       `json:"code"`
		Detail     string       `json:"detail"`
	}
	if decodeControl(w, r, &b) {
		opts := FailOptions{Route: b.Route, RetryAfter: time.Duration(b.RetryAfter), Code: b.Code, Detail: b.Detail}
		controlResult(w, s.FailNext(countOr1(b.Count), b.Status, opts))
	}
}

func (s *Simulator) controlDrop(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Count int   `json:"count"`
		Route Route `json:"route"`
	}
	if decodeControl(w, r, &b) {
		controlResult(w, s.DropNext(countOr1(b.Count), b.Route))
	}
}

func (s *Simulator) controlHold(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Count  int    `json:"count"`
		Device string `json:"device"`
	}
	if decodeControl(w, r, &b) {
		controlResult(w, s.HoldNext(countOr1(b.Count), b.Device))
	}
}

func (s *Simulator) controlLatency(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Route   Route        `json:"route"`
		Latency jsonDuration `json:"latency"`
	}
	if decodeControl(w, r, &b) {
		controlResult(w, s.SetLatency(b.Route, time.Duration(b.Latency)))
	}
}

// controlFinish ends an instruction now (completed unless another final status is asked for).
func (s *Simulator) controlFinish(w http.ResponseWriter, r *http.Request) {
	var b struct {
		ID     string        `json:"refundInstructionId"`
		Status payroc.Status `json:"status"`
	}
	if !decodeControl(w, r, &b) {
		return
	}
	v, err := s.finish(b.ID, cmp.Or(b.Status, payroc.StatusCompleted))
	if err != nil {
		controlResult(w, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v.wire(origin(r)))
}

// decodeControl reads a control's JSON body strictly; an empty body is an empty object.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		httpapi.WriteProblem(w, httpapi.Problem("", payroc.CodeBadRequest, "The control's body is not valid: "+err.Error(),
			payroc.FieldError{Parameter: "body", Message: err.Error()}))
		return false
	}
	return true
}

func controlResult(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrUnknownInstruction):
		writeNotFound(w, "refundInstruction", err.Error())
	case errors.Is(err, ErrNotInProgress):
		p := httpapi.Problem("", "conflict", err.Error())
		p.Status, p.Title = http.StatusConflict, http.StatusText(http.StatusConflict)
		httpapi.WriteProblem(w, p)
	default:
		httpapi.WriteProblem(w, httpapi.Problem("", payroc.CodeBadRequest, err.Error()))
	}
}

// jsonDuration reads "250ms"-style strings, or a number of milliseconds.
type jsonDuration time.Duration

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = jsonDuration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return errors.New(`a duration must be a string such as "250ms" or a number of milliseconds`)
	}
	*d = jsonDuration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

// countOr1 makes an omitted count mean one request; a negative one stays invalid.
func countOr1(n int) int {
	if n == 0 {
		return 1
	}
	return n
}
