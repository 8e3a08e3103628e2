package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A lane token a client puts in the request target (path, query, fragment, even the method) never reaches
// the log, at debug level either: the log names the route and the token id, never the raw target.
func TestTokensInTheTargetAreNotLogged(t *testing.T) {
	h := newHarness(t) // logs at debug
	tok := h.token("front-1", 100000)
	for _, tc := range []struct{ name, method, target string }{
		{"in the query of /lane", "GET", "/lane?token=" + url.QueryEscape(tok)},
		{"in the fragment of /lane", "GET", "/lane#token=" + tok},
		{"as a static path", "GET", "/" + tok},
		{"as a refund id", "GET", "/v1/refunds/" + tok},
		{"as a serial number", "POST", "/v1/devices/" + tok + "/refund-instructions"},
		{"as an unknown API path", "GET", "/v1/" + tok},
		{"as the method", tok, "/lane"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dialRaw()
			c.send(fmt.Sprintf("%s %s HTTP/1.1\nHost: x\nAuthorization: Bearer %s\nContent-Type: application/json\n"+
				"Idempotency-Key: 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\nContent-Length: 2\n\n{}", tc.method, tc.target, tok))
			res, body := c.response(10 * time.Second)
			require.NotEqual(t, http.StatusInternalServerError, res.StatusCode, "%s", body)
		})
	}
	h.stop() // every request line is written
	require.NotEmpty(t, h.logs.records("request"), "no request was logged")
	require.NotContains(t, h.logs.String(), "pl1.", "a lane token is in the logs")
}
