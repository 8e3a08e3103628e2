package sim_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

var (
	instructionIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)
	refundIDRe      = regexp.MustCompile(`^[A-Z0-9]{10}$`)
)

// TestContractEveryStatus sends raw requests (many of which the client would refuse to send) and checks each
// status and problem slug the simulator can produce.
func TestContractEveryStatus(t *testing.T) {
	clk := newClock()
	e := start(t, sim.Config{Delay: time.Hour, Hold: 20 * time.Millisecond, Timeout: time.Hour, Now: clk.Now})
	clk.Add(-2 * time.Hour)
	oldTok := e.token(t) // expired once the clock is back
	clk.Add(2 * time.Hour)
	tok := e.token(t)
	other := sim.New(sim.Config{})
	defer other.Close()

	submit := func(amount int) payroc.RefundInstruction {
		res, b := e.do(t, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, payroc.NewIdempotencyKey()), body(amount))
		if res.StatusCode != 202 {
			t.Fatalf("submit: %d %s", res.StatusCode, b)
		}
		return instructionOf(t, b)
	}
	inProgress := submit(4999)
	completed := submit(4999)
	failed := submit(4999)
	canceled := submit(4999)
	for id, st := range map[string]payroc.Status{completed.RefundInstructionID: payroc.StatusCompleted,
		failed.RefundInstructionID: payroc.StatusFailure, canceled.RefundInstructionID: payroc.StatusCanceled} {
		if err := e.sim.Finish(id, st); err != nil {
			t.Fatal(err)
		}
	}
	res, b := e.do(t, "GET", "/v1/refund-instructions/"+completed.RefundInstructionID, bearer(tok), "")
	refundID := payroc.RefundIDFromLink(instructionOf(t, b).Link)
	if res.StatusCode != 200 || !refundIDRe.MatchString(refundID) {
		t.Fatalf("completed instruction: %d %s", res.StatusCode, b)
	}
	usedKey := payroc.NewIdempotencyKey()
	if res, b := e.do(t, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, usedKey), body(4999)); res.StatusCode != 202 {
		t.Fatalf("submit: %d %s", res.StatusCode, b)
	}
	instPath := "/v1/refund-instructions/"

	type tc struct {
		name   string
		method string
		path   string
		header map[string]string
		body   string
		fail   func() // sets a fault first
		status int
		code   string // problem slug, for errors
		param  string // errors[0].parameter, when set
		detail string // the problem's detail, when set (Payroc's own text)
		check  func(t *testing.T, res *http.Response, b []byte)
	}
	with := func(h map[string]string, k, v string) map[string]string {
		c := map[string]string{}
		for a, b := range h {
			c[a] = b
		}
		if v == "" {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	sh := submitHeaders(tok, payroc.NewIdempotencyKey())
	cases := []tc{
		{name: "submit 202", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: submitHeaders(tok, payroc.NewIdempotencyKey()), body: body(4999), status: 202,
			check: func(t *testing.T, res *http.Response, b []byte) {
				ri := instructionOf(t, b)
				if !instructionIDRe.MatchString(ri.RefundInstructionID) || ri.Status != payroc.StatusInProgress || ri.ErrorMessage != "" {
					t.Errorf("instruction %s", b)
				}
				want := e.srv.URL + "/v1/refund-instructions/" + ri.RefundInstructionID
				if ri.Link == nil || ri.Link.Rel != "self" || ri.Link.Method != "GET" || ri.Link.Href != want {
					t.Errorf("link %+v, want self %s", ri.Link, want)
				}
				if strings.Contains(string(b), "refundId") || strings.Contains(string(b), "idempotencyKey") {
					t.Errorf("non-Payroc fields in %s", b)
				}
			}},
		{name: "submit at the root 202", method: "POST", path: "/devices/1850010869/refund-instructions", header: submitHeaders(tok, payroc.NewIdempotencyKey()),
			body: strings.Replace(body(4999), "1234001", "1234002", 1), status: 202,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if ri := instructionOf(t, b); !strings.HasPrefix(ri.Link.Href, e.srv.URL+"/v1/") {
					t.Errorf("link not under /v1: %s", ri.Link.Href)
				}
			}},
		{name: "submit with a charset 202", method: "POST", path: "/v1/devices/1850010868/refund-instructions",
			header: with(submitHeaders(tok, payroc.NewIdempotencyKey()), "Content-Type", "application/json; charset=utf-8"), body: body(4999), status: 202},
		{name: "get in progress 200 after the hold", method: "GET", path: instPath + inProgress.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if ri := instructionOf(t, b); ri.Status != payroc.StatusInProgress || ri.Link.Rel != "self" {
					t.Errorf("got %s", b)
				}
			}},
		{name: "get at the root 200", method: "GET", path: "/refund-instructions/" + completed.RefundInstructionID, header: bearer(tok), status: 200},
		{name: "get completed 200 with refund link", method: "GET", path: instPath + completed.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t *testing.T, res *http.Response, b []byte) {
				ri := instructionOf(t, b)
				if ri.Status != payroc.StatusCompleted || ri.Link.Rel != "refund" || ri.Link.Href != e.srv.URL+"/v1/refunds/"+refundID {
					t.Errorf("got %s", b)
				}
			}},
		{name: "get failed 200 with errorMessage and self link", method: "GET", path: instPath + failed.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if ri := instructionOf(t, b); ri.Status != payroc.StatusFailure || ri.ErrorMessage == "" || ri.Link.Rel != "self" {
					t.Errorf("got %s", b)
				}
			}},
		{name: "get canceled 200 with self link", method: "GET", path: instPath + canceled.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if ri := instructionOf(t, b); ri.Status != payroc.StatusCanceled || ri.ErrorMessage != "" || ri.Link.Rel != "self" {
					t.Errorf("got %s", b)
				}
			}},
		{name: "get refund 200", method: "GET", path: "/v1/refunds/" + refundID, header: bearer(tok), status: 200,
			check: func(t *testing.T, res *http.Response, b []byte) { checkRefund(t, b, refundID, 4999) }},
		{name: "get with Accept problem+json 200", method: "GET", path: "/v1/refunds/" + refundID, header: with(bearer(tok), "Accept", "application/problem+json"), status: 200},
		{name: "get with Accept */* 200", method: "GET", path: "/v1/refunds/" + refundID, header: with(bearer(tok), "Accept", "text/html, */*;q=0.1"), status: 200},

		{name: "Idempotency-Key missing 400", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: with(sh, "Idempotency-Key", ""), body: body(4999),
			status: 400, code: payroc.CodeIdempotencyKeyMissing, param: "Idempotency-Key", detail: "An 'Idempotency-Key' must be supplied for this request"},
		{name: "refund id not 10 characters 400", method: "GET", path: "/v1/refunds/" + refundID + "X", header: bearer(tok), status: 400, code: payroc.CodeBadRequest, param: "refundId"},
		{name: "refund id empty-ish 400", method: "GET", path: "/v1/refunds/ABC", header: bearer(tok), status: 400, code: payroc.CodeBadRequest, param: "refundId"},
		{name: "instruction id over 36 characters GET 400", method: "GET", path: instPath + strings.Repeat("a", 37), header: bearer(tok), status: 400, code: payroc.CodeBadRequest, param: "refundInstructionId"},
		{name: "instruction id over 36 characters DELETE 400", method: "DELETE", path: instPath + strings.Repeat("a", 37), header: bearer(tok), status: 400, code: payroc.CodeBadRequest, param: "refundInstructionId"},
		{name: "serial number over 64 characters 400", method: "POST", path: "/v1/devices/" + strings.Repeat("1", 65) + "/refund-instructions", header: sh, body: body(4999),
			status: 400, code: payroc.CodeBadRequest, param: "serialNumber"},
		{name: "Idempotency-Key not a UUID v4 400", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: with(sh, "Idempotency-Key", "order-1001"), body: body(4999),
			status: 400, code: payroc.CodeBadRequest, param: "Idempotency-Key"},
		{name: "amount with decimals 400", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh,
			body: strings.Replace(body(4999), "4999", "49.99", 1), status: 400, code: payroc.CodeBadRequest, param: "order.amount"},
		{name: "missing description 400", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh,
			body: strings.Replace(body(4999), `"description":"Refund for ORDER-1001",`, "", 1), status: 400, code: payroc.CodeBadRequest, param: "order.description"},
		{name: "unknown field 400", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh,
			body: strings.Replace(body(4999), `"operator"`, `"tip":1,"operator"`, 1), status: 400, code: payroc.CodeBadRequest, param: "tip"},
		{name: "empty body 400", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh, status: 400, code: payroc.CodeBadRequest, param: "body"},
		{name: "another device's terminal 400", method: "POST", path: "/v1/devices/1850010869/refund-instructions", header: sh, body: body(4999),
			status: 400, code: payroc.CodeBadRequest, param: "processingTerminalId"},

		{name: "bearer missing 401", method: "GET", path: "/v1/refunds/" + refundID, status: 401, code: payroc.CodeNotAuthorized},
		{name: "bearer invalid 401", method: "GET", path: "/v1/refunds/" + refundID, header: bearer(tok + "x"), status: 401, code: payroc.CodeNotAuthorized},
		{name: "bearer of another simulator 401", method: "GET", path: "/v1/refunds/" + refundID, header: bearer(mintFrom(t, other)), status: 401, code: payroc.CodeNotAuthorized},
		{name: "bearer expired 401", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: submitHeaders(oldTok, payroc.NewIdempotencyKey()), body: body(4999),
			status: 401, code: payroc.CodeNotAuthorized, check: func(t *testing.T, res *http.Response, b []byte) {
				if !strings.Contains(string(b), "expired") {
					t.Errorf("detail does not say expired: %s", b)
				}
			}},
		{name: "api key wrong 401", method: "POST", path: "/authorize", header: map[string]string{"x-api-key": "not-the-key"}, status: 401, code: payroc.CodeNotAuthorized},

		{name: "unknown device 404", method: "POST", path: "/v1/devices/9999999999/refund-instructions", header: sh, body: body(4999), status: 404, code: payroc.CodeNotFound},
		{name: "unknown instruction GET 404", method: "GET", path: instPath + "a37439165d134678a9100ebba3b29597", header: bearer(tok), status: 404, code: payroc.CodeNotFound},
		{name: "unknown instruction DELETE 404", method: "DELETE", path: instPath + "a37439165d134678a9100ebba3b29597", header: bearer(tok), status: 404, code: payroc.CodeNotFound},
		{name: "unknown refund 404", method: "GET", path: "/v1/refunds/CD3HN88U9F", header: bearer(tok), status: 404, code: payroc.CodeNotFound},
		{name: "unknown path 404", method: "GET", path: "/v1/payments", header: bearer(tok), status: 404, code: payroc.CodeNotFound},

		{name: "PUT instruction 405", method: "PUT", path: instPath + completed.RefundInstructionID, header: bearer(tok), status: 405, code: payroc.CodeMethodNotAllowed,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if a := res.Header.Get("Allow"); a != "GET, DELETE" {
					t.Errorf("Allow %q", a)
				}
			}},
		{name: "GET submit path 405", method: "GET", path: "/v1/devices/1850010868/refund-instructions", header: bearer(tok), status: 405, code: payroc.CodeMethodNotAllowed},
		{name: "GET authorize 405", method: "GET", path: "/authorize", status: 405, code: payroc.CodeMethodNotAllowed},

		{name: "Accept html 406", method: "GET", path: "/v1/refunds/" + refundID, header: with(bearer(tok), "Accept", "text/html"), status: 406, code: payroc.CodeNotAcceptable},
		{name: "Accept json q=0 406", method: "GET", path: "/v1/refunds/" + refundID, header: with(bearer(tok), "Accept", "application/json;q=0, text/plain"), status: 406, code: payroc.CodeNotAcceptable},

		{name: "Idempotency-Key reused with another body 409", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: submitHeaders(tok, usedKey), body: body(5000),
			status: 409, code: payroc.CodeIdempotencyKeyInUse, param: "Idempotency-Key", detail: "'Idempotency-Key' is already in use against a different request"},
		{name: "cancel completed 409 with the refund link", method: "DELETE", path: instPath + completed.RefundInstructionID, header: bearer(tok), status: 409, code: payroc.CodeCannotBeCanceled, param: "refundInstructionId",
			check: func(t *testing.T, res *http.Response, b []byte) {
				p := payroc.ParseProblem(res.StatusCode, nil, b)
				if payroc.RefundIDFromLink(p.Link) != refundID || p.Errors[0].Message != "Completed instruction cannot be canceled" {
					t.Errorf("got %s", b)
				}
			}},
		{name: "cancel failed 409 without link", method: "DELETE", path: instPath + failed.RefundInstructionID, header: bearer(tok), status: 409, code: payroc.CodeCannotBeCanceled,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if p := payroc.ParseProblem(res.StatusCode, nil, b); p.Link != nil || p.Errors[0].Message != "Failed instruction cannot be canceled" {
					t.Errorf("got %s", b)
				}
			}},
		{name: "cancel canceled 409 without link", method: "DELETE", path: instPath + canceled.RefundInstructionID, header: bearer(tok), status: 409, code: payroc.CodeCannotBeCanceled,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if p := payroc.ParseProblem(res.StatusCode, nil, b); p.Link != nil || p.Errors[0].Message != "Canceled instruction cannot be canceled" {
					t.Errorf("got %s", b)
				}
			}},

		{name: "text body 415", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: with(sh, "Content-Type", "text/plain"), body: body(4999), status: 415, code: payroc.CodeUnsupportedMediaType},
		{name: "no content type 415", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: with(sh, "Content-Type", ""), body: body(4999), status: 415, code: payroc.CodeUnsupportedMediaType},

		{name: "forced 403", fail: func() { _ = e.sim.FailNext(1, 403, sim.FailOptions{}) }, method: "GET", path: "/v1/refunds/" + refundID, header: bearer(tok), status: 403, code: payroc.CodeForbidden},
		{name: "forced 406", fail: func() { _ = e.sim.FailNext(1, 406, sim.FailOptions{Route: sim.RouteSubmit}) }, method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh, body: body(4999), status: 406, code: payroc.CodeNotAcceptable},
		{name: "forced 429 with Retry-After", fail: func() { _ = e.sim.FailNext(1, 429, sim.FailOptions{RetryAfter: 2 * time.Second}) }, method: "GET", path: "/v1/refunds/" + refundID, header: bearer(tok), status: 429,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if ra := res.Header.Get("Retry-After"); ra != "2" {
					t.Errorf("Retry-After %q", ra)
				}
			}},
		{name: "forced 500 like Payroc's", fail: func() { _ = e.sim.FailNext(1, 500, sim.FailOptions{}) }, method: "DELETE", path: instPath + inProgress.RefundInstructionID, header: bearer(tok), status: 500, code: payroc.CodeAPIError,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if p := payroc.ParseProblem(500, nil, b); len(p.Errors) != 1 || p.Errors[0].Message != "Service offline" {
					t.Errorf("got %s", b)
				}
			}},
		{name: "forced 503 on identity", fail: func() { _ = e.sim.FailNext(1, 503, sim.FailOptions{Route: sim.RouteIdentity}) }, method: "POST", path: "/authorize", header: map[string]string{"x-api-key": e.sim.APIKey()}, status: 503,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if ra := res.Header.Get("Retry-After"); ra != "1" {
					t.Errorf("Retry-After %q", ra)
				}
			}},
		{name: "forced fault with a slug of its own", fail: func() {
			_ = e.sim.FailNext(1, 400, sim.FailOptions{Route: sim.RouteSubmit, Code: "capabilities-missing", Detail: "The terminal cannot refund"})
		}, method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh, body: body(4999), status: 400, code: "capabilities-missing"},
		// Last: it cancels the in-progress instruction.
		{name: "cancel in progress 204", method: "DELETE", path: instPath + inProgress.RefundInstructionID, header: bearer(tok), status: 204,
			check: func(t *testing.T, res *http.Response, b []byte) {
				if len(b) != 0 {
					t.Errorf("body %q", b)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.fail != nil {
				c.fail()
			}
			res, b := e.do(t, c.method, c.path, c.header, c.body)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, b)
			}
			if c.status >= 400 {
				if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				p := payroc.ParseProblem(res.StatusCode, nil, b)
				var raw map[string]any
				if err := json.Unmarshal(b, &raw); err != nil || raw["type"] == nil || raw["title"] == "" || raw["status"] != float64(c.status) || raw["detail"] == "" {
					t.Errorf("not a full problem document: %s", b)
				}
				if c.code != "" && p.Code != c.code {
					t.Errorf("code %q, want %q: %s", p.Code, c.code, b)
				}
				if !strings.HasPrefix(p.Type, payroc.ProblemTypeBase+"#") {
					t.Errorf("type %q", p.Type)
				}
				if c.detail != "" && p.Detail != c.detail {
					t.Errorf("detail %q, want %q", p.Detail, c.detail)
				}
				if c.param != "" && (len(p.Errors) == 0 || p.Errors[0].Parameter != c.param) {
					t.Errorf("errors %+v, want parameter %q", p.Errors, c.param)
				}
			}
			if c.check != nil {
				c.check(t, res, b)
			}
		})
	}
	if st := e.sim.Stats(); st.PendingFaults != 0 {
		t.Errorf("faults left over: %+v", st)
	}
}

func mintFrom(t *testing.T, s *sim.Simulator) string {
	t.Helper()
	tok, err := (&payroc.Identity{BaseURL: "http://sim.test", APIKey: s.APIKey(),
		Doer: payroc.HTTPDoer{Client: &http.Client{Transport: s.Transport()}}}).Mint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// checkRefund checks a retrieved refund is Payroc's full object for an approved refund of amount.
func checkRefund(t *testing.T, b []byte, refundID string, amount int64) {
	t.Helper()
	var r payroc.Refund
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("refund %s: %v", b, err)
	}
	tr := r.TransactionResult
	switch {
	case r.RefundID != refundID, r.ProcessingTerminalID != "1234001", r.Operator != "cashier-1":
		t.Errorf("ids: %s", b)
	case r.Order.OrderID != "ORDER-1001" || r.Order.Amount != amount || r.Order.Currency != "USD" || r.Order.Description == "":
		t.Errorf("order: %s", b)
	case r.Card.CardNumber != "453985******7062" || r.Card.Type == "" || r.Card.EntryMethod == "" || len(r.Card.ExpiryDate) != 4:
		t.Errorf("card: %s", b)
	case tr.Type != "refund" || tr.Status != "ready" || tr.ResponseCode != "A" || tr.ApprovalCode == "" || tr.Currency != "USD" || tr.ResponseMessage == "":
		t.Errorf("transactionResult: %s", b)
	case tr.AuthorizedAmount == nil || *tr.AuthorizedAmount != -amount:
		t.Errorf("authorizedAmount: %s", b)
	}
	if _, err := time.Parse(time.RFC3339, r.Order.DateTime); err != nil {
		t.Errorf("order.dateTime %q: %v", r.Order.DateTime, err)
	}
}
