package sim_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

var (
	instructionIDRe = regexp.MustCompile(`^[0-9a-f]{32}$`)
	refundIDRe      = regexp.MustCompile(`^[A-Z0-9]{10}$`)
)

// TestContractEveryStatus sends raw requests (many of which the client would refuse to send) and checks each
// status and problem slug the simulator can produce, one subtest per case.
//
// Each case runs in a synctest bubble of its own, from the same starting point (contractCases), so the
// expired bearer is one minted two hours earlier on the bubble's clock, and no case depends on another's
// leftovers. A bubble cannot hold subtests, so the subtest holds the bubble.
func TestContractEveryStatus(t *testing.T) {
	var names []string
	synctest.Test(t, func(t *testing.T) {
		for _, c := range contractCases(t) {
			names = append(names, c.name)
		}
	})
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { contractCases(t)[i].run(t) })
		})
	}
}

// contractCase is one request of the contract and what it must answer.
type contractCase struct {
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
	check  func(t require.TestingT, res *http.Response, b []byte)
	e      *env
}

func (c contractCase) run(t *testing.T) {
	if c.fail != nil {
		c.fail()
	}
	res, b := c.e.do(t, c.method, c.path, c.header, c.body)
	require.Equal(t, c.status, res.StatusCode, "status: %s", b)
	if c.status >= 400 {
		checkProblem(t, res, b, c.code, c.detail, c.param)
	}
	if c.check != nil {
		c.check(t, res, b)
	}
	assert.Zero(t, c.e.sim.Stats().PendingFaults, "faults left over")
}

// contractCases starts a simulator in the caller's bubble with an instruction in each status, a completed
// refund and a used key, and returns the cases against it.
func contractCases(t *testing.T) []contractCase {
	e := startInBubble(t, sim.Config{Delay: time.Hour, Hold: 20 * time.Millisecond, Timeout: time.Hour})
	oldTok := e.token(t) // expired two hours from now
	time.Sleep(2 * time.Hour)
	tok := e.token(t)
	other := sim.New(sim.Config{})
	defer other.Close()

	submit := func(amount int) payroc.RefundInstruction {
		res, b := e.do(t, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, payroc.NewIdempotencyKey()), body(amount))
		require.Equal(t, 202, res.StatusCode, "submit: %s", b)
		return instructionOf(t, b)
	}
	inProgress := submit(4999)
	completed := submit(4999)
	failed := submit(4999)
	canceled := submit(4999)
	for id, st := range map[string]payroc.Status{completed.RefundInstructionID: payroc.StatusCompleted,
		failed.RefundInstructionID: payroc.StatusFailure, canceled.RefundInstructionID: payroc.StatusCanceled} {
		require.NoError(t, e.sim.Finish(id, st))
	}
	res, b := e.do(t, "GET", "/v1/refund-instructions/"+completed.RefundInstructionID, bearer(tok), "")
	require.Equal(t, 200, res.StatusCode, "completed instruction: %s", b)
	refundID := payroc.RefundIDFromLink(instructionOf(t, b).Link)
	require.Regexp(t, refundIDRe, refundID, "completed instruction: %s", b)
	usedKey := payroc.NewIdempotencyKey()
	res, b = e.do(t, "POST", "/v1/devices/1850010868/refund-instructions", submitHeaders(tok, usedKey), body(4999))
	require.Equal(t, 202, res.StatusCode, "submit: %s", b)
	instPath := "/v1/refund-instructions/"

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
	cases := []contractCase{
		{name: "submit 202", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: submitHeaders(tok, payroc.NewIdempotencyKey()), body: body(4999), status: 202,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				ri := instructionOf(t, b)
				assert.Regexp(t, instructionIDRe, ri.RefundInstructionID)
				assert.Equal(t, payroc.StatusInProgress, ri.Status)
				assert.Empty(t, ri.ErrorMessage)
				want := &payroc.Link{Rel: "self", Method: "GET", Href: e.url + "/v1/refund-instructions/" + ri.RefundInstructionID}
				assert.Equal(t, want, ri.Link)
				assert.NotContains(t, string(b), "refundId", "a field Payroc does not send")
				assert.NotContains(t, string(b), "idempotencyKey", "a field Payroc does not send")
			}},
		{name: "submit at the root 202", method: "POST", path: "/devices/1850010869/refund-instructions", header: submitHeaders(tok, payroc.NewIdempotencyKey()),
			body: strings.Replace(body(4999), "1234001", "1234002", 1), status: 202,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				assert.True(t, strings.HasPrefix(instructionOf(t, b).Link.Href, e.url+"/v1/"), "link under /v1: %s", b)
			}},
		{name: "submit with a charset 202", method: "POST", path: "/v1/devices/1850010868/refund-instructions",
			header: with(submitHeaders(tok, payroc.NewIdempotencyKey()), "Content-Type", "application/json; charset=utf-8"), body: body(4999), status: 202},
		{name: "get in progress 200 after the hold", method: "GET", path: instPath + inProgress.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				ri := instructionOf(t, b)
				assert.Equal(t, payroc.StatusInProgress, ri.Status)
				assert.Equal(t, "self", ri.Link.Rel)
			}},
		{name: "get at the root 200", method: "GET", path: "/refund-instructions/" + completed.RefundInstructionID, header: bearer(tok), status: 200},
		{name: "get completed 200 with refund link", method: "GET", path: instPath + completed.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				ri := instructionOf(t, b)
				assert.Equal(t, payroc.StatusCompleted, ri.Status)
				assert.Equal(t, "refund", ri.Link.Rel)
				assert.Equal(t, e.url+"/v1/refunds/"+refundID, ri.Link.Href)
			}},
		{name: "get failed 200 with errorMessage and self link", method: "GET", path: instPath + failed.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				ri := instructionOf(t, b)
				assert.Equal(t, payroc.StatusFailure, ri.Status)
				assert.NotEmpty(t, ri.ErrorMessage)
				assert.Equal(t, "self", ri.Link.Rel)
			}},
		{name: "get canceled 200 with self link", method: "GET", path: instPath + canceled.RefundInstructionID, header: bearer(tok), status: 200,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				ri := instructionOf(t, b)
				assert.Equal(t, payroc.StatusCanceled, ri.Status)
				assert.Empty(t, ri.ErrorMessage)
				assert.Equal(t, "self", ri.Link.Rel)
			}},
		{name: "get refund 200", method: "GET", path: "/v1/refunds/" + refundID, header: bearer(tok), status: 200,
			check: func(t require.TestingT, res *http.Response, b []byte) { checkRefund(t, b, refundID, 4999) }},
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
			status: 401, code: payroc.CodeNotAuthorized, check: func(t require.TestingT, res *http.Response, b []byte) {
				assert.Contains(t, string(b), "expired", "the detail")
			}},
		{name: "api key wrong 401", method: "POST", path: "/authorize", header: map[string]string{"x-api-key": "not-the-key"}, status: 401, code: payroc.CodeNotAuthorized},

		{name: "unknown device 404", method: "POST", path: "/v1/devices/9999999999/refund-instructions", header: sh, body: body(4999), status: 404, code: payroc.CodeNotFound},
		{name: "unknown instruction GET 404", method: "GET", path: instPath + "a37439165d134678a9100ebba3b29597", header: bearer(tok), status: 404, code: payroc.CodeNotFound},
		{name: "unknown instruction DELETE 404", method: "DELETE", path: instPath + "a37439165d134678a9100ebba3b29597", header: bearer(tok), status: 404, code: payroc.CodeNotFound},
		{name: "unknown refund 404", method: "GET", path: "/v1/refunds/CD3HN88U9F", header: bearer(tok), status: 404, code: payroc.CodeNotFound},
		{name: "unknown path 404", method: "GET", path: "/v1/payments", header: bearer(tok), status: 404, code: payroc.CodeNotFound},

		{name: "PUT instruction 405", method: "PUT", path: instPath + completed.RefundInstructionID, header: bearer(tok), status: 405, code: payroc.CodeMethodNotAllowed,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				assert.Equal(t, "GET, DELETE", res.Header.Get("Allow"))
			}},
		{name: "GET submit path 405", method: "GET", path: "/v1/devices/1850010868/refund-instructions", header: bearer(tok), status: 405, code: payroc.CodeMethodNotAllowed},
		{name: "GET authorize 405", method: "GET", path: "/authorize", status: 405, code: payroc.CodeMethodNotAllowed},

		{name: "Accept html 406", method: "GET", path: "/v1/refunds/" + refundID, header: with(bearer(tok), "Accept", "text/html"), status: 406, code: payroc.CodeNotAcceptable},
		{name: "Accept json q=0 406", method: "GET", path: "/v1/refunds/" + refundID, header: with(bearer(tok), "Accept", "application/json;q=0, text/plain"), status: 406, code: payroc.CodeNotAcceptable},

		{name: "Idempotency-Key reused with another body 409", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: submitHeaders(tok, usedKey), body: body(5000),
			status: 409, code: payroc.CodeIdempotencyKeyInUse, param: "Idempotency-Key", detail: "'Idempotency-Key' is already in use against a different request"},
		{name: "cancel completed 409 with the refund link", method: "DELETE", path: instPath + completed.RefundInstructionID, header: bearer(tok), status: 409, code: payroc.CodeCannotBeCanceled, param: "refundInstructionId",
			check: func(t require.TestingT, res *http.Response, b []byte) {
				p := payroc.ParseProblem(res.StatusCode, nil, b)
				assert.Equal(t, refundID, payroc.RefundIDFromLink(p.Link))
				if assert.NotEmpty(t, p.Errors) {
					assert.Equal(t, "Completed instruction cannot be canceled", p.Errors[0].Message)
				}
			}},
		{name: "cancel failed 409 without link", method: "DELETE", path: instPath + failed.RefundInstructionID, header: bearer(tok), status: 409, code: payroc.CodeCannotBeCanceled,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				p := payroc.ParseProblem(res.StatusCode, nil, b)
				assert.Nil(t, p.Link)
				if assert.NotEmpty(t, p.Errors) {
					assert.Equal(t, "Failed instruction cannot be canceled", p.Errors[0].Message)
				}
			}},
		{name: "cancel canceled 409 without link", method: "DELETE", path: instPath + canceled.RefundInstructionID, header: bearer(tok), status: 409, code: payroc.CodeCannotBeCanceled,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				p := payroc.ParseProblem(res.StatusCode, nil, b)
				assert.Nil(t, p.Link)
				if assert.NotEmpty(t, p.Errors) {
					assert.Equal(t, "Canceled instruction cannot be canceled", p.Errors[0].Message)
				}
			}},

		{name: "text body 415", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: with(sh, "Content-Type", "text/plain"), body: body(4999), status: 415, code: payroc.CodeUnsupportedMediaType},
		{name: "no content type 415", method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: with(sh, "Content-Type", ""), body: body(4999), status: 415, code: payroc.CodeUnsupportedMediaType},

		{name: "forced 403", fail: func() { _ = e.sim.FailNext(1, 403, sim.FailOptions{}) }, method: "GET", path: "/v1/refunds/" + refundID, header: bearer(tok), status: 403, code: payroc.CodeForbidden},
		{name: "forced 406", fail: func() { _ = e.sim.FailNext(1, 406, sim.FailOptions{Route: sim.RouteSubmit}) }, method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh, body: body(4999), status: 406, code: payroc.CodeNotAcceptable},
		{name: "forced 429 with Retry-After", fail: func() { _ = e.sim.FailNext(1, 429, sim.FailOptions{RetryAfter: 2 * time.Second}) }, method: "GET", path: "/v1/refunds/" + refundID, header: bearer(tok), status: 429,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				assert.Equal(t, "2", res.Header.Get("Retry-After"))
			}},
		{name: "forced 500 like Payroc's", fail: func() { _ = e.sim.FailNext(1, 500, sim.FailOptions{}) }, method: "DELETE", path: instPath + inProgress.RefundInstructionID, header: bearer(tok), status: 500, code: payroc.CodeAPIError,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				p := payroc.ParseProblem(500, nil, b)
				if assert.Len(t, p.Errors, 1) {
					assert.Equal(t, "Service offline", p.Errors[0].Message)
				}
			}},
		{name: "forced 503 on identity", fail: func() { _ = e.sim.FailNext(1, 503, sim.FailOptions{Route: sim.RouteIdentity}) }, method: "POST", path: "/authorize", header: map[string]string{"x-api-key": e.sim.APIKey()}, status: 503,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				assert.Equal(t, "1", res.Header.Get("Retry-After"))
			}},
		{name: "forced fault with a slug of its own", fail: func() {
			_ = e.sim.FailNext(1, 400, sim.FailOptions{Route: sim.RouteSubmit, Code: "capabilities-missing", Detail: "The terminal cannot refund"})
		}, method: "POST", path: "/v1/devices/1850010868/refund-instructions", header: sh, body: body(4999), status: 400, code: "capabilities-missing"},
		{name: "cancel in progress 204", method: "DELETE", path: instPath + inProgress.RefundInstructionID, header: bearer(tok), status: 204,
			check: func(t require.TestingT, res *http.Response, b []byte) {
				assert.Empty(t, b)
			}},
	}
	for i := range cases {
		cases[i].e = e
	}
	return cases
}

// checkProblem checks a problem document: the full shape, and the code, detail and first errors[] parameter
// when given.
func checkProblem(t assert.TestingT, res *http.Response, b []byte, code, detail, param string) {
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var raw map[string]any
	if assert.NoError(t, json.Unmarshal(b, &raw), "problem %s", b) {
		assert.NotNil(t, raw["type"], "type in %s", b)
		assert.NotEmpty(t, raw["title"], "title in %s", b)
		assert.NotEmpty(t, raw["detail"], "detail in %s", b)
		assert.Equal(t, float64(res.StatusCode), raw["status"], "status in %s", b)
	}
	p := payroc.ParseProblem(res.StatusCode, nil, b)
	assert.True(t, strings.HasPrefix(p.Type, payroc.ProblemTypeBase+"#"), "type %q", p.Type)
	if code != "" {
		assert.Equal(t, code, p.Code, "code in %s", b)
	}
	if detail != "" {
		assert.Equal(t, detail, p.Detail)
	}
	if param != "" && assert.NotEmpty(t, p.Errors, "errors in %s", b) {
		assert.Equal(t, param, p.Errors[0].Parameter)
	}
}

func mintFrom(t *testing.T, s *sim.Simulator) string {
	t.Helper()
	tok, err := (&payroc.Identity{BaseURL: "http://sim.test", APIKey: s.APIKey(),
		Doer: payroc.HTTPDoer{Client: &http.Client{Transport: s.Transport()}}}).Mint(t.Context())
	require.NoError(t, err)
	return tok.AccessToken
}

// checkRefund checks a retrieved refund is Payroc's full object for an approved refund of amount.
func checkRefund(t require.TestingT, b []byte, refundID string, amount int64) {
	var r payroc.Refund
	require.NoError(t, json.Unmarshal(b, &r), "refund %s", b)
	assert.Equal(t, refundID, r.RefundID)
	assert.Equal(t, "1234001", r.ProcessingTerminalID)
	assert.Equal(t, "cashier-1", r.Operator)
	assert.Equal(t, "ORDER-1001", r.Order.OrderID)
	assert.Equal(t, amount, r.Order.Amount)
	assert.Equal(t, "USD", r.Order.Currency)
	assert.NotEmpty(t, r.Order.Description)
	assert.Equal(t, "453985******7062", r.Card.CardNumber)
	assert.NotEmpty(t, r.Card.Type)
	assert.NotEmpty(t, r.Card.EntryMethod)
	assert.Len(t, r.Card.ExpiryDate, 4)
	tr := r.TransactionResult
	assert.Equal(t, "refund", tr.Type)
	assert.Equal(t, "ready", tr.Status)
	assert.Equal(t, "A", tr.ResponseCode)
	assert.NotEmpty(t, tr.ApprovalCode)
	assert.Equal(t, "USD", tr.Currency)
	assert.NotEmpty(t, tr.ResponseMessage)
	if assert.NotNil(t, tr.AuthorizedAmount) {
		assert.Equal(t, -amount, *tr.AuthorizedAmount, "authorizedAmount: negative for a refund")
	}
	_, err := time.Parse(time.RFC3339, r.Order.DateTime)
	assert.NoError(t, err, "order.dateTime %q", r.Order.DateTime)
}
