package sim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

func (e *env) stats(t *testing.T, query string) sim.Stats {
	t.Helper()
	res, b := e.do(t, "GET", "/sim/stats"+query, nil, "")
	if res.StatusCode != 200 {
		t.Fatalf("stats: %d %s", res.StatusCode, b)
	}
	var st sim.Stats
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *env) control(t *testing.T, name, body string, want int) []byte {
	t.Helper()
	res, b := e.do(t, "POST", "/sim/"+name, map[string]string{"Content-Type": "application/json"}, body)
	if res.StatusCode != want {
		t.Fatalf("/sim/%s %s: %d %s, want %d", name, body, res.StatusCode, b, want)
	}
	return b
}

// TestHTTPControls drives the /sim/ controls over HTTP, without a bearer.
func TestHTTPControls(t *testing.T) {
	e := start(t, sim.Config{Delay: time.Hour, Hold: 10 * time.Millisecond, Timeout: time.Hour})
	tok := e.token(t)
	const submitPath = "/v1/devices/1850010868/refund-instructions"

	t.Run("fail", func(t *testing.T) {
		e.control(t, "fail", `{"status":503,"count":2,"route":"submit"}`, 204)
		if st := e.stats(t, ""); st.PendingFaults != 2 {
			t.Fatalf("pending %d", st.PendingFaults)
		}
		// Another route is untouched.
		if res, _ := e.do(t, "GET", "/v1/refunds/CD3HN88U9F", bearer(tok), ""); res.StatusCode != 404 {
			t.Fatalf("get refund %d", res.StatusCode)
		}
		key := payroc.NewIdempotencyKey()
		for i := range 2 {
			res, b := e.do(t, "POST", submitPath, submitHeaders(tok, key), body(4999))
			if res.StatusCode != 503 || res.Header.Get("Retry-After") != "1" {
				t.Fatalf("submit %d: %d %v %s", i, res.StatusCode, res.Header, b)
			}
		}
		if res, b := e.do(t, "POST", submitPath, submitHeaders(tok, key), body(4999)); res.StatusCode != 202 {
			t.Fatalf("third submit %d %s", res.StatusCode, b)
		}
		st := e.stats(t, "?key="+key)
		if st.InstructionsByKey[key] != 1 || len(st.InstructionsByKey) != 1 || st.Requests[sim.RouteSubmit] != 3 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("fail identity with a Retry-After", func(t *testing.T) {
		e.control(t, "fail", `{"status":429,"route":"identity","retryAfter":"3s"}`, 204)
		res, _ := e.do(t, "POST", "/authorize", map[string]string{"x-api-key": e.sim.APIKey()}, "")
		if res.StatusCode != 429 || res.Header.Get("Retry-After") != "3" {
			t.Fatalf("%d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("drop", func(t *testing.T) {
		e.control(t, "drop", `{"route":"submit"}`, 204)
		key := payroc.NewIdempotencyKey()
		once := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if _, _, err := e.tryWith(context.Background(), once, "POST", submitPath, submitHeaders(tok, key), body(4999)); err == nil {
			t.Fatal("answered")
		}
		if st := e.stats(t, "?key="+key); st.InstructionsByKey[key] != 1 || st.PendingDrops != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("latency", func(t *testing.T) {
		e.control(t, "latency", `{"route":"get_refund","latency":"40ms"}`, 204)
		begin := time.Now()
		e.do(t, "GET", "/v1/refunds/CD3HN88U9F", bearer(tok), "")
		if d := time.Since(begin); d < 40*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
		e.control(t, "latency", `{"route":"get_refund","latency":0}`, 204)
		e.control(t, "latency", `{"latency":25}`, 204) // every refund endpoint, in milliseconds
		begin = time.Now()
		e.do(t, "DELETE", "/v1/refund-instructions/a37439165d134678a9100ebba3b29597", bearer(tok), "")
		if d := time.Since(begin); d < 25*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
		e.control(t, "latency", `{"latency":"0s"}`, 204)
	})
	t.Run("finish", func(t *testing.T) {
		res, b := e.do(t, "POST", submitPath, submitHeaders(tok, payroc.NewIdempotencyKey()), body(4901))
		id := instructionOf(t, b).RefundInstructionID
		b = e.control(t, "finish", `{"refundInstructionId":"`+id+`"}`, 200)
		ri := instructionOf(t, b)
		if ri.Status != payroc.StatusCompleted || ri.Link.Href != e.url+"/v1/refunds/"+payroc.RefundIDFromLink(ri.Link) {
			t.Fatalf("finish answered %s", b)
		}
		_, b = e.do(t, "GET", "/v1/refunds/"+payroc.RefundIDFromLink(ri.Link), bearer(tok), "")
		var ref payroc.Refund
		if err := json.Unmarshal(b, &ref); err != nil || ref.TransactionResult.ResponseCode != "D" {
			t.Fatalf("amount 01 forced to completion should stay declined: %s", b)
		}
		e.control(t, "finish", `{"refundInstructionId":"`+id+`","status":"failure"}`, 409)
		e.control(t, "finish", `{"refundInstructionId":"nope"}`, 404)
		_ = res
	})
	t.Run("devices", func(t *testing.T) {
		_, b := e.do(t, "GET", "/sim/devices", nil, "")
		var d struct{ Devices []sim.Device }
		if err := json.Unmarshal(b, &d); err != nil || len(d.Devices) != 2 || d.Devices[1] != (sim.Device{SerialNumber: "1850010869", ProcessingTerminalID: "1234002", Label: "Counter 2"}) {
			t.Fatalf("%s", b)
		}
	})
	t.Run("reset", func(t *testing.T) {
		e.control(t, "fail", `{"status":500,"count":5}`, 204)
		e.control(t, "drop", `{"count":5}`, 204)
		e.control(t, "latency", `{"latency":"1h"}`, 204)
		e.control(t, "reset", "", 204)
		st := e.stats(t, "")
		if st.PendingFaults != 0 || st.PendingDrops != 0 || st.IdentityCalls != 0 || st.InstructionsCreated != 0 || len(st.Requests) != 0 || st.Stored == 0 {
			t.Fatalf("after reset %+v", st)
		}
		if res, _ := e.do(t, "GET", "/v1/refunds/CD3HN88U9F", bearer(tok), ""); res.StatusCode != 404 {
			t.Fatalf("a control survived the reset: %d", res.StatusCode)
		}
	})
	t.Run("bad input", func(t *testing.T) {
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
			if p := payroc.ParseProblem(400, nil, b); p.Code != payroc.CodeBadRequest {
				t.Errorf("%s %s: %s", c.name, c.body, b)
			}
		}
		if res, _ := e.do(t, "GET", "/sim/fail", nil, ""); res.StatusCode != 405 || res.Header.Get("Allow") != "POST" {
			t.Errorf("GET /sim/fail: %d", res.StatusCode)
		}
		if res, _ := e.do(t, "POST", "/sim/stats", nil, ""); res.StatusCode != 405 {
			t.Errorf("POST /sim/stats: %d", res.StatusCode)
		}
		if res, _ := e.do(t, "GET", "/sim/nope", nil, ""); res.StatusCode != 404 {
			t.Errorf("GET /sim/nope: %d", res.StatusCode)
		}
		if st := e.sim.Stats(); st.PendingFaults != 0 || st.PendingDrops != 0 {
			t.Errorf("bad input changed something: %+v", st)
		}
	})
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
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := s.Finish("a37439165d134678a9100ebba3b29597", payroc.StatusCompleted); err != sim.ErrUnknownInstruction {
		t.Errorf("finish unknown: %v", err)
	}
	if st := s.Stats(); st.PendingFaults != 0 || st.PendingDrops != 0 {
		t.Errorf("stats %+v", st)
	}
}
