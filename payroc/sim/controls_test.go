package sim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (e *env) stats(t *testing.T, query string) sim.Stats {
	t.Helper()
	res, b := e.do(t, "GET", "/sim/stats"+query, nil, "")
	require.EqualValues(t, 200, res.StatusCode, "stats: %d %s", res.StatusCode, b)
	var st sim.Stats
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}

func (e *env) control(t *testing.T, name, body string, want int) []byte {
	t.Helper()
	res, b := e.do(t, "POST", "/sim/"+name, map[string]string{"Content-Type": "application/json"}, body)
	require.Equal(t, want, res.StatusCode)
	return b
}

// The /sim/ controls over HTTP, without a bearer: one test per control, each on a simulator of its own.

const submitPath = "/v1/devices/1850010868/refund-instructions"

// startControls starts a simulator whose devices take an hour (nothing finishes by itself) and mints a bearer.
func startControls(t *testing.T) (*env, string) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: 10 * time.Millisecond, Timeout: time.Hour})
	return e, e.token(t)
}

func TestHTTPControlFail(t *testing.T) {
	e, tok := startControls(t)
	e.control(t, "fail", `{"status":503,"count":2,"route":"submit"}`, 204)
	st := e.stats(t, "")
	require.EqualValues(t, 2, st.PendingFaults, "pending %d", st.PendingFaults)
	// Another route is untouched.
	res, _ := e.do(t, "GET", "/v1/refunds/CD3HN88U9F", bearer(tok), "")
	require.EqualValues(t, 404, res.StatusCode, "get refund %d", res.StatusCode)
	key := payroc.NewIdempotencyKey()
	for i := range 2 {
		res, b := e.do(t, "POST", submitPath, submitHeaders(tok, key), body(4999))
		require.EqualValues(t, 503, res.StatusCode, "submit %d: %d %v %s", i, res.StatusCode, res.Header, b)
		require.Equal(t, "1", res.Header.Get("Retry-After"), "submit %d: %d %v %s", i, res.StatusCode, res.Header, b)
	}
	res, b := e.do(t, "POST", submitPath, submitHeaders(tok, key), body(4999))
	require.EqualValues(t, 202, res.StatusCode, "third submit %d %s", res.StatusCode, b)
	st = e.stats(t, "?key="+key)
	require.EqualValues(t, 1, st.InstructionsByKey[key], "stats %+v", st)
	require.Len(t, st.InstructionsByKey, 1, "stats %+v", st)
	require.EqualValues(t, 3, st.Requests[sim.RouteSubmit], "stats %+v", st)
}

func TestHTTPControlFailIdentityWithRetryAfter(t *testing.T) {
	e, _ := startControls(t)
	e.control(t, "fail", `{"status":429,"route":"identity","retryAfter":"3s"}`, 204)
	res, _ := e.do(t, "POST", "/authorize", map[string]string{"x-api-key": e.sim.APIKey()}, "")
	require.EqualValues(t, 429, res.StatusCode, "%d %v", res.StatusCode, res.Header)
	require.Equal(t, "3", res.Header.Get("Retry-After"), "%d %v", res.StatusCode, res.Header)
}

func TestHTTPControlDrop(t *testing.T) {
	e, tok := startControls(t)
	e.control(t, "drop", `{"route":"submit"}`, 204)
	key := payroc.NewIdempotencyKey()
	once := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	_, _, err := e.tryWith(context.Background(), once, "POST", submitPath, submitHeaders(tok, key), body(4999))
	require.Error(t, err, "answered")
	st := e.stats(t, "?key="+key)
	require.EqualValues(t, 1, st.InstructionsByKey[key], "stats %+v", st)
	require.EqualValues(t, 0, st.PendingDrops, "stats %+v", st)
}

func TestHTTPControlLatency(t *testing.T) {
	e, tok := startControls(t)
	e.control(t, "latency", `{"route":"get_refund","latency":"40ms"}`, 204)
	begin := time.Now()
	e.do(t, "GET", "/v1/refunds/CD3HN88U9F", bearer(tok), "")
	d := time.Since(begin)
	require.GreaterOrEqual(t, d, 40*time.Millisecond, "answered after %v", d)
	e.control(t, "latency", `{"route":"get_refund","latency":0}`, 204)
	e.control(t, "latency", `{"latency":25}`, 204) // every refund endpoint, in milliseconds
	begin = time.Now()
	e.do(t, "DELETE", "/v1/refund-instructions/a37439165d134678a9100ebba3b29597", bearer(tok), "")
	d = time.Since(begin)
	require.GreaterOrEqual(t, d, 25*time.Millisecond, "answered after %v", d)
	e.control(t, "latency", `{"latency":"0s"}`, 204)
}

func TestHTTPControlFinish(t *testing.T) {
	e, tok := startControls(t)
	res, b := e.do(t, "POST", submitPath, submitHeaders(tok, payroc.NewIdempotencyKey()), body(4901))
	id := instructionOf(t, b).RefundInstructionID
	b = e.control(t, "finish", `{"refundInstructionId":"`+id+`"}`, 200)
	ri := instructionOf(t, b)
	require.Equal(t, payroc.StatusCompleted, ri.Status, "finish answered %s", b)
	require.Equal(t, e.url+"/v1/refunds/"+payroc.RefundIDFromLink(ri.Link), ri.Link.Href, "finish answered %s", b)
	_, b = e.do(t, "GET", "/v1/refunds/"+payroc.RefundIDFromLink(ri.Link), bearer(tok), "")
	var ref payroc.Refund
	err := json.Unmarshal(b, &ref)
	require.NoError(t, err, "amount 01 forced to completion should stay declined: %s", b)
	require.Equal(t, "D", ref.TransactionResult.ResponseCode, "amount 01 forced to completion should stay declined: %s", b)
	e.control(t, "finish", `{"refundInstructionId":"`+id+`","status":"failure"}`, 409)
	e.control(t, "finish", `{"refundInstructionId":"nope"}`, 404)
	_ = res
}

func TestHTTPControlDevices(t *testing.T) {
	e, _ := startControls(t)
	_, b := e.do(t, "GET", "/sim/devices", nil, "")
	var d struct{ Devices []sim.Device }
	err := json.Unmarshal(b, &d)
	require.NoError(t, err, "%s", b)
	require.Len(t, d.Devices, 2, "%s", b)
	require.Equal(t, (sim.Device{SerialNumber: "1850010869", ProcessingTerminalID: "1234002", Label: "Counter 2"}), d.Devices[1], "%s", b)
}

func TestHTTPControlReset(t *testing.T) {
	e, tok := startControls(t)
	res, b := e.do(t, "POST", submitPath, submitHeaders(tok, payroc.NewIdempotencyKey()), body(4999))
	require.EqualValues(t, 202, res.StatusCode, "submit: %s", b)
	e.control(t, "fail", `{"status":500,"count":5}`, 204)
	e.control(t, "drop", `{"count":5}`, 204)
	e.control(t, "latency", `{"latency":"1h"}`, 204)
	e.control(t, "reset", "", 204)
	st := e.stats(t, "")
	require.EqualValues(t, 0, st.PendingFaults, "after reset %+v", st)
	require.EqualValues(t, 0, st.PendingDrops, "after reset %+v", st)
	require.EqualValues(t, 0, st.IdentityCalls, "after reset %+v", st)
	require.EqualValues(t, 0, st.InstructionsCreated, "after reset %+v", st)
	require.Empty(t, st.Requests, "after reset %+v", st)
	require.EqualValues(t, 1, st.Stored, "the instruction outlives the reset: %+v", st)
	res, _ = e.do(t, "GET", "/v1/refunds/CD3HN88U9F", bearer(tok), "")
	require.EqualValues(t, 404, res.StatusCode, "a control survived the reset: %d", res.StatusCode)
}

func TestHTTPControlRefuseBadInput(t *testing.T) {
	e, _ := startControls(t)
	for _, c := range []struct{ name, body string }{
		{"fail", `{"status":200}`},
		{"fail", `{"status":503,"route":"payments"}`},
		{"fail", `{"status":503,"count":-1}`},
		{"fail", `{"status":"503"}`},
		{"fail", `{"status":503,"extra":1}`},
		{"drop", `{"route":"nope"}`},
		{"latency", `{"latency":"soon"}`},
		{"latency", `{"latency":"-1s"}`},
		{"finish", `{"refundInstructionId":"x","status":"inProgress"}`},
		{"fail", `not json`},
	} {
		b := e.control(t, c.name, c.body, 400)
		p := payroc.ParseProblem(400, nil, b)
		assert.Equal(t, payroc.CodeBadRequest, p.Code, "%s %s: %s", c.name, c.body, b)
	}
	res, _ := e.do(t, "GET", "/sim/fail", nil, "")
	assert.EqualValues(t, 405, res.StatusCode, "GET /sim/fail: %d", res.StatusCode)
	assert.Equal(t, "POST", res.Header.Get("Allow"), "GET /sim/fail: %d", res.StatusCode)
	res, _ = e.do(t, "POST", "/sim/stats", nil, "")
	assert.EqualValues(t, 405, res.StatusCode, "POST /sim/stats: %d", res.StatusCode)
	res, _ = e.do(t, "GET", "/sim/nope", nil, "")
	assert.EqualValues(t, 404, res.StatusCode, "GET /sim/nope: %d", res.StatusCode)
	st := e.sim.Stats()
	assert.EqualValues(t, 0, st.PendingFaults, "bad input changed something: %+v", st)
	assert.EqualValues(t, 0, st.PendingDrops, "bad input changed something: %+v", st)
}

// TestGoControlsRejectBadInput: the Go methods refuse what they cannot do, and change nothing.
func TestGoControlsRejectBadInput(t *testing.T) {
	s := sim.New(sim.Config{})
	defer s.Close()
	for name, err := range map[string]error{
		"status 200":           s.FailNext(1, 200, sim.FailOptions{}),
		"n 0":                  s.FailNext(0, 500, sim.FailOptions{}),
		"unknown route":        s.FailNext(1, 500, sim.FailOptions{Route: "payments"}),
		"drop n 0":             s.DropNext(0, sim.RouteAny),
		"negative latency":     s.SetLatency(sim.RouteAny, -time.Second),
		"finish to inProgress": s.Finish("x", payroc.StatusInProgress),
	} {
		assert.Error(t, err, "%s: accepted", name)
	}
	err := s.Finish("a37439165d134678a9100ebba3b29597", payroc.StatusCompleted)
	assert.Equal(t, sim.ErrUnknownInstruction, err, "finish unknown: %v", err)
	st := s.Stats()
	assert.EqualValues(t, 0, st.PendingFaults, "stats %+v", st)
	assert.EqualValues(t, 0, st.PendingDrops, "stats %+v", st)
}

// A latency ends when the caller leaves, for a submit with a body too, and the simulator then goes on with the
// request as Payroc would: a test holds a call this way until its client gives up, racing no timer.
func TestLatencyEndsWhenTheCallerLeaves(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: time.Hour, Timeout: time.Hour})
	tok := e.token(t)
	require.NoError(t, e.sim.SetLatency(sim.RouteSubmit, time.Hour))
	key := payroc.NewIdempotencyKey()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, _, err := e.try(ctx, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, key), body(4999))
		errc <- err
	}()
	require.Eventually(t, func() bool { return e.sim.Stats().Requests[sim.RouteSubmit] == 1 }, time.Minute, time.Millisecond,
		"the submit to arrive")
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	require.Eventually(t, func() bool { return e.sim.InstructionsFor(key) == 1 }, time.Minute, time.Millisecond,
		"the simulator to make the instruction once its caller left, not an hour later")
}
