package e2e

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// simBearerPrefix is how every bearer the simulator issues starts (base64url of {"alg":"HS256","typ":"JWT"}):
// a check by format on top of the exact tokens, in case one was issued that the harness did not see.
var simBearerPrefix = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "."

// Scenario 7: the API key and Payroc's bearer tokens never reach the browser: not in any request or
// response of the page (headers and bodies, the wasm included), not in the DOM, not in its storage.
func TestSecretsNeverReachTheBrowser(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	// Record from the very first request: reload now that the recorder runs.
	p.Reload()
	p.WaitReady()

	// An approved refund, then a cancel that loses the race (a 409 problem carrying a link), then a bad
	// request answered by the proxy: every kind of answer the page reads.
	p.Type("operator", "cashier-7")
	p.refund("70.00")
	p.waitStatus("approved")
	p.Click("new-refund-button")
	p.refund("70.05")
	p.waitStatus("inProgress")
	p.waitInstruction()
	p.WaitEnabled("cancel-button")
	p.Click("cancel-button")
	p.waitStatus("approved")
	harness.Eval[string](p.Tab, moduleJS+`.then(x => x.getRefund("NOSUCHREFD")).then(() => "", e => e.code)`)

	secrets := map[string]string{"the Payroc API key": env.stack.APIKey()}
	bearers := env.stack.Bearers()
	require.NotEmpty(t, bearers, "the simulator issued no bearer token: the check below would prove nothing")
	for i, b := range bearers {
		secrets[fmt.Sprintf("Payroc bearer #%d", i+1)] = b
	}
	secrets["a Payroc bearer (by its format)"] = simBearerPrefix

	check := func(where, text string) {
		t.Helper()
		for name, s := range secrets {
			if s != "" {
				assert.NotContains(t, text, s, "%s contains %s", where, name)
			}
		}
	}

	exchanges := net.Exchanges()
	var sawWasm, sawAPI, sawLaneToken bool
	for _, x := range exchanges {
		where := x.Method + " " + x.URL
		check(where+" (URL)", x.URL)
		for k, v := range x.RequestHeaders {
			check(where+" request header "+k, v)
			if strings.EqualFold(k, "Authorization") && v == "Bearer "+p.token.Token {
				sawLaneToken = true
			}
		}
		check(where+" request body", x.RequestBody)
		for k, v := range x.ResponseHeaders {
			check(where+" response header "+k, v)
		}
		check(where+" response body", string(x.Body))
		if strings.HasSuffix(x.URL, "/payroc.wasm") && len(x.Body) > 0 {
			sawWasm = true
		}
		if strings.Contains(x.URL, "/v1/") && x.Done && x.BodyErr == nil {
			sawAPI = true
		}
	}
	// The recorder must have seen what it checks: the wasm's bytes, the API's answers, and the request
	// headers (where the page's own credential, the lane token, does belong).
	assert.True(t, sawWasm && sawAPI && sawLaneToken,
		"recorded %d exchanges but not the wasm (%v), API answers with bodies (%v) and the lane token header (%v): the check is incomplete",
		len(exchanges), sawWasm, sawAPI, sawLaneToken)
	check("the DOM", p.HTML())
	for k, v := range p.LocalStorage() {
		check("localStorage["+k+"]", k+v)
	}
	check("sessionStorage", harness.Eval[string](p.Tab, `JSON.stringify(Object.fromEntries(Object.keys(sessionStorage).map(k => [k, sessionStorage.getItem(k)])))`))
	check("document.cookie", harness.Eval[string](p.Tab, `document.cookie`))
	for _, l := range p.Console() {
		check("the console", l.Text)
	}
	// And the proxy never logs them either.
	check("the proxy's log", env.stack.Proxy.Logs())
}
