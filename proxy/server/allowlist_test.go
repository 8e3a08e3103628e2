package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/server"
)

// The allowlist is of exact paths: a doubled slash, a trailing slash or a dot segment is another path (404),
// even where it would name a route, and nothing reaches upstream.
func TestProxyNonCanonicalAPIPathsAreNotFound(t *testing.T) {
	h := newHarness(t)
	tok := h.token("front-1", 100000)
	inst, _ := h.mustSubmit(tok, "1850010868", 4999, "")
	final := h.waitFinal(tok, inst.RefundInstructionID)
	refundID := payroc.RefundIDFromLink(final.Link)
	id := inst.RefundInstructionID
	key := func() map[string]string { return map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey()} }
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		hdr                map[string]string
	}{
		{"double slash after v1", "GET", "/v1//refund-instructions/" + id, nil, nil},
		{"double slash inside", "GET", "/v1/refunds//" + refundID, nil, nil},
		{"trailing slash on instruction", "GET", "/v1/refund-instructions/" + id + "/", nil, nil},
		{"trailing slash on refund", "GET", "/v1/refunds/" + refundID + "/", nil, nil},
		{"trailing slash on cancel", "DELETE", "/v1/refund-instructions/" + id + "/", nil, nil},
		{"trailing slash on submit", "POST", "/v1/devices/1850010869/refund-instructions/", refundBody("1850010869", 100), key()},
		{"double slash on submit", "POST", "/v1//devices/1850010869/refund-instructions", refundBody("1850010869", 100), key()},
		{"dot segment", "GET", "/v1/./refunds/" + refundID, nil, nil},
		{"dot-dot segment", "GET", "/v1/payments/../refunds/" + refundID, nil, nil},
		{"encoded dot-dot", "GET", "/v1/refund-instructions/%2e%2e", nil, nil},
		{"encoded slash in id", "GET", "/v1/refund-instructions/" + id + "%2F", nil, nil},
		{"upper case", "GET", "/v1/Refunds/" + refundID, nil, nil},
		{"upper case v1", "GET", "/V1/refunds/" + refundID, nil, nil},
		{"query does not help", "GET", "/v1/refunds/" + refundID + "/?x=1", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.upstreamTotal()
			res, b := h.do(tc.method, tc.path, tok, tc.body, tc.hdr)
			problemOf(t, res, b, 404, "not-found")
			after := h.upstreamTotal()
			require.Equal(t, before, after, "%d request(s) reached upstream", after-before)
		})
	}
	// HEAD reads like GET, without a body; OPTIONS without CORS is a 405.
	res, b := h.do("HEAD", "/v1/refunds/"+refundID, tok, nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "HEAD refund: %d %q", res.StatusCode, b)
	require.Empty(t, b, "HEAD refund: %d %q", res.StatusCode, b)
	res, b = h.do("OPTIONS", "/v1/refunds/"+refundID, tok, nil, nil)
	problemOf(t, res, b, 405, "method-not-allowed")
}

// A body that encoding/json reads one way and another parser another way (duplicate members, names in
// another case, invalid UTF-8) never carries a second reading past the scope checks: it is refused as a
// bad request, and nothing reaches upstream. (What does go upstream is the checked request, encoded afresh.)
func TestProxyRefusesAmbiguousBodies(t *testing.T) {
	h := newHarness(t)
	tok := h.token("front-1", 5000)
	for _, tc := range []struct {
		name, body, field string
	}{
		{"duplicate amount", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"Refund","amount":99999999,"currency":"USD","amount":4999}}`, "order.amount"},
		{"amount in another case", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"Refund","amount":99999999,"currency":"USD","AMOUNT":4999}}`, "order.AMOUNT"},
		{"duplicate order", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"Refund","amount":99999999,"currency":"USD"},"order":{"orderId":"ORDER-1001","description":"Refund","amount":4999,"currency":"USD"}}`, "order"},
		{"invalid UTF-8", "{\"processingTerminalId\":\"1234001\",\"order\":{\"orderId\":\"ORDER-1001\",\"description\":\"Refund \xff\xfe\",\"amount\":4999,\"currency\":\"USD\"}}", "body"},
		{"escaped names", `{"processingTerminalId":"1234001","order":{"orderId":"ORDER-1001","description":"Refund","amount":99999999,"currency":"USD","\u0061mount":4999}}`, "order.amount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.upstreamTotal()
			res, b := h.do("POST", "/v1/devices/1850010868/refund-instructions", tok, []byte(tc.body),
				map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey()})
			problemOf(t, res, b, 400, "bad-request")
			e := payroc.ParseProblem(res.StatusCode, nil, b)
			require.NotEmpty(t, e.Errors)
			require.Equal(t, tc.field, e.Errors[0].Parameter)
			after := h.upstreamTotal()
			require.Equal(t, before, after, "%d request(s) reached upstream", after-before)
		})
	}
}

// A URL given with credentials is refused at start, and the error (printed to stderr, collected by the
// process supervisor) does not repeat them.
func TestProxyConfigErrorsDoNotRepeatURLCredentials(t *testing.T) {
	for _, edit := range []func(*server.Config){
		func(c *server.Config) { c.APIURL = "https://user:hunter2-secret@api.example/v1" },
		func(c *server.Config) { c.IdentityURL = "https://user:hunter2-secret@identity.example" },
		func(c *server.Config) { c.PublicURL = "https://user:hunter2-secret@pos.example" },
		func(c *server.Config) { c.AllowOrigins = []string{"https://user:hunter2-secret@till.example"} },
		func(c *server.Config) { c.APIURL = "https://user:hunter2-secret%zz@api.example/v1" },
	} {
		c := server.Config{APIURL: "http://127.0.0.1:1/v1", IdentityURL: "http://127.0.0.1:1", APIKey: "k", WebDir: t.TempDir(),
			TokenSecrets: [][]byte{[]byte(testSecret)}, Devices: []server.Device{{Serial: "1850010868", TerminalID: "1234001"}}}
		edit(&c)
		_, err := server.New(c)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "hunter2")
	}
}
