package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/clocktest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
)

func TestProxyRefundEndToEnd(t *testing.T) {
	h := newHarness(t)
	tok := h.devToken()
	inst, key := h.mustSubmit(tok, "1850010868", 4999, "")
	require.Equal(t, payroc.StatusInProgress, inst.Status, "submit answer: %+v", inst)
	require.True(t, strings.HasPrefix(inst.Link.Href, h.url+"/v1/refund-instructions/"), "submit answer: %+v", inst)
	final := h.waitFinal(tok, inst.RefundInstructionID)
	require.Equal(t, payroc.StatusCompleted, final.Status, "final: %+v", final)
	require.NotNil(t, final.Link, "final: %+v", final)
	require.True(t, strings.HasPrefix(final.Link.Href, h.url+"/v1/refunds/"), "final: %+v", final)
	refundID := payroc.RefundIDFromLink(final.Link)
	res, body := h.do("GET", "/v1/refunds/"+refundID, tok, nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "GET refund: %d %s", res.StatusCode, body)
	var ref payroc.Refund
	err := json.Unmarshal(body, &ref)
	require.NoError(t, err, "refund %s: %v", body, err)
	require.Equal(t, refundID, ref.RefundID, "refund %s: %v", body, err)
	require.Equal(t, payroc.OutcomeApproved, payroc.OutcomeOf(&ref), "refund %s: %v", body, err)
	n := h.sim.InstructionsFor(key)
	require.EqualValues(t, 1, n, "instructions for the key: %d", n)
	// One audit line for the submit and one for the final outcome, keyed by key and lane token id.
	var events []string
	for _, a := range h.logs.records("audit") {
		if a["idempotencyKey"] == key {
			events = append(events, a["event"].(string))
			require.NotEmpty(t, a["laneTokenId"], "audit line without its lane token id: %v", a)
			require.Equal(t, "dev", a["lane"], "audit line without its lane token id: %v", a)
		}
	}
	require.Equal(t, "submit,final", strings.Join(events, ","), "audit events %v", events)
}

// The same payroc client the browser runs works against the proxy, with the lane token as its bearer.
func TestProxyServesThePayrocClient(t *testing.T) {
	h := newHarness(t)
	c := &payroc.Client{BaseURL: h.url + "/v1", Doer: payroc.HTTPDoer{Client: h.client},
		Tokens: payroc.NewStaticToken(h.devToken(), nil)}
	for _, tc := range []struct {
		amount  int64
		outcome payroc.Outcome
	}{{4999, payroc.OutcomeApproved}, {4901, payroc.OutcomeDeclined}, {4902, payroc.OutcomeFailed}, {4904, payroc.OutcomeApproved}} {
		res, err := c.RunRefund(t.Context(), mustRefund(t, "1850010869", &payroc.RefundInstructionRequest{ProcessingTerminalID: "1234002",
			Order: payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund", Amount: tc.amount, Currency: "USD"}}, ""), payroc.RunOptions{})
		require.NoError(t, err, "amount %d: %+v, %v", tc.amount, res, err)
		require.Equal(t, tc.outcome, res.Outcome, "amount %d: %+v, %v", tc.amount, res, err)
	}
	// Cancel loses the race (amount …05): the 409's refund link is rewritten and the refund is readable.
	inst, err := c.Submit(t.Context(), mustRefund(t, "1850010868", &payroc.RefundInstructionRequest{ProcessingTerminalID: "1234001",
		Order: payroc.RefundOrder{OrderID: "ORDER-1002", Description: "Refund", Amount: 505, Currency: "USD"}}, ""))
	require.NoError(t, err)
	got, err := c.Cancel(t.Context(), inst.RefundInstructionID)
	require.NoError(t, err, "cancel: %+v, %v", got, err)
	require.Equal(t, payroc.StatusCompleted, got.Status, "cancel: %+v, %v", got, err)
	require.True(t, strings.HasPrefix(got.Link.Href, h.url+"/v1/refunds/"), "cancel: %+v, %v", got, err)
	_, err = c.Refund(t.Context(), got.RefundID)
	require.NoError(t, err, "refund after lost cancel race: %v", err)
}

func TestProxyRefusalsReachNothingUpstream(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.MaxAmount = 50000; c.MaxBodyBytes = 2048 })
	tok := h.token("front-1", 100000)
	onlySecond := h.token("front-2", 100000, "1850010869")
	unknownDevice := h.token("front-3", 100000, "1850010868", "1850099999")
	small := h.token("front-4", 1000)
	foreign, _ := lane.NewKeyring([][]byte{[]byte("another-secret-0123456789abcdef0123456789")})
	foreignTok, _, _ := foreign.Issue(lane.Spec{Devices: []string{"1850010868"}, MaxAmount: 100})
	past := clocktest.New()
	past.Advance(-13 * time.Hour)
	old, _ := lane.NewKeyring([][]byte{[]byte(testSecret)})
	old.Now = past.Now
	expired, _, _ := old.Issue(lane.Spec{Devices: []string{"1850010868"}, MaxAmount: 100, TTL: 12 * time.Hour})

	// An instruction of lane front-1, and its refund, to probe from another lane.
	inst, _ := h.mustSubmit(tok, "1850010868", 4999, "")
	final := h.waitFinal(tok, inst.RefundInstructionID)
	refundID := payroc.RefundIDFromLink(final.Link)
	otherLane := h.token("front-9", 100000)

	submitPath := "/v1/devices/1850010868/refund-instructions"
	key := func() map[string]string { return map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey()} }
	body := refundBody("1850010868", 4999)
	for _, tc := range []struct {
		name, method, path, token string
		body                      []byte
		hdr                       map[string]string
		status                    int
		slug, field               string
	}{
		{"unknown path", "GET", "/v1/payments/123", tok, nil, nil, 404, "not-found", ""},
		{"api root", "GET", "/v1/", tok, nil, nil, 404, "not-found", ""},
		{"instruction without id", "GET", "/v1/refund-instructions", tok, nil, nil, 404, "not-found", ""},
		{"identity is not forwarded", "POST", "/v1/authorize", tok, nil, nil, 404, "not-found", ""},
		{"wrong method on instruction", "PUT", "/v1/refund-instructions/abc", tok, nil, nil, 405, "method-not-allowed", ""},
		{"wrong method on refund", "POST", "/v1/refunds/" + refundID, tok, nil, nil, 405, "method-not-allowed", ""},
		{"GET on submit", "GET", submitPath, tok, nil, nil, 405, "method-not-allowed", ""},
		{"no token", "POST", submitPath, "", body, key(), 401, "lane-token-missing", ""},
		{"not bearer", "GET", "/v1/refunds/" + refundID, "", nil, map[string]string{"Authorization": "Basic Zm9vOmJhcg=="}, 401, "lane-token-invalid", ""},
		{"garbage token", "POST", submitPath, "not-a-token", body, key(), 401, "lane-token-invalid", ""},
		{"token of another proxy", "POST", submitPath, foreignTok, body, key(), 401, "lane-token-invalid", ""},
		{"tampered token", "POST", submitPath, tok[:len(tok)-2] + "AA", body, key(), 401, "lane-token-invalid", ""},
		{"expired token", "POST", submitPath, expired, body, key(), 401, "lane-token-expired", ""},
		{"device not in token", "POST", submitPath, onlySecond, body, key(), 403, "out-of-scope", "serialNumber"},
		{"device unknown to the proxy", "POST", "/v1/devices/1850099999/refund-instructions", unknownDevice, refundBody("1850099999", 100), key(), 403, "out-of-scope", "serialNumber"},
		{"amount over the token", "POST", submitPath, small, refundBody("1850010868", 1001), key(), 403, "out-of-scope", "order.amount"},
		{"amount over -max-amount", "POST", submitPath, tok, refundBody("1850010868", 50001), key(), 403, "out-of-scope", "order.amount"},
		{"other currency", "POST", submitPath, tok, []byte(strings.Replace(string(body), `"USD"`, `"EUR"`, 1)), key(), 403, "out-of-scope", "order.currency"},
		{"wrong terminal", "POST", submitPath, tok, []byte(strings.Replace(string(body), "1234001", "1234002", 1)), key(), 400, "bad-request", "processingTerminalId"},
		{"no idempotency key", "POST", submitPath, tok, body, nil, 400, "idempotency-key-missing", ""},
		{"malformed idempotency key", "POST", submitPath, tok, body, map[string]string{"Idempotency-Key": "12345"}, 400, "bad-request", "Idempotency-Key"},
		{"decimal amount", "POST", submitPath, tok, []byte(strings.Replace(string(body), "4999", "49.99", 1)), key(), 400, "bad-request", "order.amount"},
		{"unknown field", "POST", submitPath, tok, []byte(strings.Replace(string(body), `"operator"`, `"cashier"`, 1)), key(), 400, "bad-request", "cashier"},
		{"missing description", "POST", submitPath, tok, []byte(strings.Replace(string(body), `"description":"Refund for ORDER-1001",`, "", 1)), key(), 400, "bad-request", "order.description"},
		{"empty body", "POST", submitPath, tok, []byte(""), key(), 400, "bad-request", "body"},
		{"not JSON", "POST", submitPath, tok, []byte("amount=4999"), key(), 400, "bad-request", "body"},
		{"text/plain body", "POST", submitPath, tok, body, map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey(), "Content-Type": "text/plain"}, 415, "unsupported-media-type", ""},
		{"body too large", "POST", submitPath, tok, []byte(`{"operator":"` + strings.Repeat("x", 4096) + `"}`), key(), 413, "payload-too-large", ""},
		{"body on a GET too large", "GET", "/v1/refunds/" + refundID, tok, []byte(strings.Repeat("x", 4096)), nil, 413, "payload-too-large", ""},
		{"cross-site POST", "POST", submitPath, tok, body, map[string]string{"Idempotency-Key": payroc.NewIdempotencyKey(), "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403, "forbidden", ""},
		{"cross-site preflight", "OPTIONS", submitPath, "", nil, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, 403, "forbidden", ""},
		{"another lane's instruction", "GET", "/v1/refund-instructions/" + inst.RefundInstructionID, otherLane, nil, nil, 404, "not-found", ""},
		{"another lane cancels", "DELETE", "/v1/refund-instructions/" + inst.RefundInstructionID, otherLane, nil, nil, 404, "not-found", ""},
		{"another lane's refund", "GET", "/v1/refunds/" + refundID, otherLane, nil, nil, 404, "not-found", ""},
		{"unknown instruction", "GET", "/v1/refund-instructions/0123456789abcdef0123456789abcdef", tok, nil, nil, 404, "not-found", ""},
		{"unknown refund", "GET", "/v1/refunds/ABCDEFGHIJ", tok, nil, nil, 404, "not-found", ""},
		{"slash in serial", "POST", "/v1/devices/18500%2F10868/refund-instructions", tok, body, key(), 400, "bad-request", "serialNumber"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.upstreamTotal()
			res, b := h.do(tc.method, tc.path, tc.token, tc.body, tc.hdr)
			p := problemOf(t, res, b, tc.status, tc.slug)
			if tc.field != "" {
				require.True(t, fieldNamed(p, tc.field), "errors[] names %s: %s", tc.field, b)
			}
			if tc.status == 401 {
				require.NotEmpty(t, res.Header.Get("WWW-Authenticate"), "a 401's WWW-Authenticate")
			}
			if tc.status == 405 {
				require.NotEmpty(t, res.Header.Get("Allow"), "a 405's Allow")
			}
			after := h.upstreamTotal()
			require.Equal(t, before, after, "%d request(s) reached upstream", after-before)
			require.NotContains(t, string(b), testAPIKey, "the API key is in an answer")
		})
	}
	// Payroc's own slug for a missing key; the proxy's base for its own problems.
	res, b := h.do("POST", submitPath, tok, body, nil)
	p := problemOf(t, res, b, 400, "idempotency-key-missing")
	require.True(t, strings.HasPrefix(p["type"].(string), payroc.ProblemTypeBase), "type %v", p["type"])
	res, b = h.do("GET", "/v1/nope", tok, nil, nil)
	p = problemOf(t, res, b, 404, "not-found")
	require.True(t, strings.HasPrefix(p["type"].(string), server.ProblemTypeBase+"#"), "type %v", p["type"])
}

func TestProxyObjectLevelScopeFollowsTheLane(t *testing.T) {
	h := newHarness(t)
	first := h.token("front-1", 100000)
	inst, key := h.mustSubmit(first, "1850010868", 4999, "")
	// A renewed token for the same lane (another token id) keeps access.
	renewed := h.token("front-1", 100000)
	final := h.waitFinal(renewed, inst.RefundInstructionID)
	res, b := h.do("GET", "/v1/refunds/"+payroc.RefundIDFromLink(final.Link), renewed, nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "renewed token reading its lane's refund: %d %s", res.StatusCode, b)
	// Another lane replaying the same key and body is refused before anything goes upstream.
	intruder := h.token("front-2", 100000)
	before := h.upstreamTotal()
	res, b, _ = h.submit(intruder, "1850010868", 4999, key)
	problemOf(t, res, b, 409, "idempotency-key-in-use")
	require.Equal(t, before, h.upstreamTotal(), "the foreign replay reached upstream")
}

func TestProxyDeviceBusyGuard(t *testing.T) {
	clock := clocktest.New()
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.Now = clock.Now; c.BusyTimeout = time.Minute })
	tok := h.token("front-1", 100000)
	// Amount …03: no card is ever presented, the instruction stays inProgress.
	inst, key := h.mustSubmit(tok, "1850010868", 403, "")

	before := len(h.submitsUpstream()) // the holder's status is read once (it may have ended): no submit goes
	res, b, _ := h.submit(tok, "1850010868", 1000, "")
	problemOf(t, res, b, 409, "device-busy")
	require.Equal(t, before, len(h.submitsUpstream()), "a busy-device submit reached upstream")
	// Another lane is refused too: the device is busy for everyone.
	res, b, _ = h.submit(h.token("front-2", 100000), "1850010868", 1000, "")
	problemOf(t, res, b, 409, "device-busy")

	// A replay with the same key passes and Payroc answers with the same instruction.
	again, _ := h.mustSubmit(tok, "1850010868", 403, key)
	require.Equal(t, inst.RefundInstructionID, again.RefundInstructionID, "replay made %s (instructions for key: %d)", again.RefundInstructionID, h.sim.InstructionsFor(key))
	require.EqualValues(t, 1, h.sim.InstructionsFor(key), "replay made %s (instructions for key: %d)", again.RefundInstructionID, h.sim.InstructionsFor(key))
	// The other device is free.
	h.mustSubmit(tok, "1850010869", 1000, "")

	// A successful cancel frees the device.
	res, b = h.do("DELETE", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, nil)
	require.Equal(t, http.StatusNoContent, res.StatusCode, "cancel: %d %s", res.StatusCode, b)
	next, _ := h.mustSubmit(tok, "1850010868", 1000, "")

	// A final status seen by a GET frees it.
	h.waitFinal(tok, next.RefundInstructionID)
	stuck, _ := h.mustSubmit(tok, "1850010868", 403, "")

	// Nobody asks about the stuck one: after BusyTimeout of silence the device is free again.
	clock.Advance(59 * time.Second)
	res, b, _ = h.submit(tok, "1850010868", 1000, "")
	problemOf(t, res, b, 409, "device-busy")
	clock.Advance(2 * time.Second)
	h.mustSubmit(tok, "1850010868", 1000, "")
	_ = h.sim.Finish(stuck.RefundInstructionID, payroc.StatusCanceled)

	cancels := 0
	for _, a := range h.logs.records("audit") {
		if a["event"] == "cancel" && a["refundInstructionId"] == inst.RefundInstructionID && a["result"] == "canceled" && a["idempotencyKey"] == key {
			cancels++
		}
	}
	require.EqualValues(t, 1, cancels, "%d cancel audit lines", cancels)
}

func TestProxyRateLimitPerLaneToken(t *testing.T) {
	clock := clocktest.New()                                                                    // no refill while the test runs, however slow the machine
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.Rate = 1; c.Now = clock.Now }) // burst 3
	tok := h.token("front-1", 100000)
	other := h.token("front-1", 100000) // same lane, another token: its own bucket
	before := h.upstreamTotal()
	for i := 0; i < 3; i++ {
		res, b := h.do("GET", "/v1/refunds/ABCDEFGHIJ", tok, nil, nil)
		require.EqualValues(t, 404, res.StatusCode, "request %d: %d %s", i, res.StatusCode, b)
	}
	res, b := h.do("GET", "/v1/refunds/ABCDEFGHIJ", tok, nil, nil)
	problemOf(t, res, b, 429, "rate-limited")
	ra := res.Header.Get("Retry-After")
	require.NotEmpty(t, ra, "Retry-After %q", ra)
	require.NotEqual(t, "0", ra, "Retry-After %q", ra)
	res, b, _ = h.submit(tok, "1850010868", 100, "")
	problemOf(t, res, b, 429, "rate-limited")
	res, _ = h.do("GET", "/v1/refunds/ABCDEFGHIJ", other, nil, nil)
	require.EqualValues(t, 404, res.StatusCode, "another token was limited: %d", res.StatusCode)
	require.Equal(t, before, h.upstreamTotal(), "rate-limited requests reached upstream")
	clock.Advance(time.Second)
	res, _ = h.do("GET", "/v1/refunds/ABCDEFGHIJ", tok, nil, nil)
	require.EqualValues(t, 404, res.StatusCode, "after a second: %d", res.StatusCode)
}

func TestProxyOnlyAllowlistedHeadersGoUpstream(t *testing.T) {
	h := newHarness(t)
	tok := h.devToken()
	key := payroc.NewIdempotencyKey()
	browser := map[string]string{
		"Idempotency-Key": key, "Cookie": "session=s3cr3t", "X-Forwarded-For": "203.0.113.7", "X-Custom": "1",
		"Accept": "application/json", "User-Agent": "pos-kiosk/1.0", "Origin": h.url, "Referer": h.url + "/",
		"Sec-Fetch-Site": "same-origin", "X-Api-Key": "browser-supplied",
	}
	res, b := h.do("POST", "/v1/devices/1850010868/refund-instructions", tok, refundBody("1850010868", 4999), browser)
	require.EqualValues(t, 202, res.StatusCode, "submit: %d %s", res.StatusCode, b)
	var inst payroc.RefundInstruction
	_ = json.Unmarshal(b, &inst)
	delete(browser, "Idempotency-Key")
	h.do("GET", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, browser)
	h.do("DELETE", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, browser)

	allowed := map[string]bool{"Content-Type": true, "Accept": true, "Idempotency-Key": true, "Authorization": true,
		// The Go transport's own.
		"User-Agent": true, "Accept-Encoding": true, "Content-Length": true}
	apiCalls := 0
	for _, r := range h.rec.requests() {
		if r.Path == "/authorize" {
			require.Empty(t, r.Header.Get("Authorization"), "identity request headers: %v", r.Header)
			require.Equal(t, testAPIKey, r.Header.Get("X-Api-Key"), "identity request headers: %v", r.Header)
			continue
		}
		apiCalls++
		for name := range r.Header {
			if !allowed[name] {
				t.Errorf("%s %s carried %s upstream", r.Method, r.Path, name)
			}
		}
		a := r.Header.Get("Authorization")
		assert.True(t, strings.HasPrefix(a, "Bearer "), "upstream Authorization is not the minted bearer: %.20s", a)
		assert.NotContains(t, a, tok, "upstream Authorization is not the minted bearer: %.20s", a)
		ua := r.Header.Get("User-Agent")
		assert.NotEqual(t, "pos-kiosk/1.0", ua, "the browser's User-Agent went upstream")
	}
	require.EqualValues(t, 3, apiCalls)
}

func TestProxyLinksRewrittenToPublicURL(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.PublicURL = "https://pos.example/refunds/" })
	tok := h.devToken()
	inst, _ := h.mustSubmit(tok, "1850010868", 4999, "")
	want := "https://pos.example/refunds/v1/refund-instructions/" + inst.RefundInstructionID
	require.NotNil(t, inst.Link)
	require.Equal(t, want, inst.Link.Href)
	final := h.waitFinal(tok, inst.RefundInstructionID)
	require.True(t, strings.HasPrefix(final.Link.Href, "https://pos.example/refunds/v1/refunds/"), "final link %+v", final.Link)
	require.Equal(t, "refund", final.Link.Rel, "final link %+v", final.Link)
	require.Equal(t, "GET", final.Link.Method, "final link %+v", final.Link)
	// A 409 problem's link too (cancel of a completed instruction).
	res, b := h.do("DELETE", "/v1/refund-instructions/"+inst.RefundInstructionID, tok, nil, nil)
	p := problemOf(t, res, b, 409, "cannot-be-canceled")
	link := p["link"].(map[string]any)
	require.Equal(t, final.Link.Href, link["href"])
	require.True(t, strings.HasPrefix(p["type"].(string), payroc.ProblemTypeBase), "Payroc's problem type was changed")
}

func TestProxyTokenMintsAreSingleFlight(t *testing.T) {
	h := newHarness(t, func(s *sim.Config, _ *server.Config) { s.ExtraDevices = 12 })
	require.NoError(t, h.sim.SetLatency(sim.RouteIdentity, 100*time.Millisecond))
	tok := h.token("load", 100000, "1850020001", "1850020002", "1850020003", "1850020004", "1850020005", "1850020006",
		"1850020007", "1850020008", "1850020009", "1850020010", "1850020011", "1850020012")
	var wg sync.WaitGroup
	errs := make(chan string, 12)
	for i := 1; i <= 12; i++ {
		wg.Go(func() {
			serial := "18500200" + []string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}[i-1]
			res, b, _ := h.submit(tok, serial, 4999, "")
			if res.StatusCode != 202 {
				errs <- string(b)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := h.sim.Stats()
	require.EqualValues(t, 1, st.IdentityCalls, "%d identity calls for 12 concurrent first requests", st.IdentityCalls)
}

func TestProxyTokenRefreshedBeforeExpiry(t *testing.T) {
	clock := clocktest.New()
	h := newHarness(t, func(s *sim.Config, c *server.Config) { s.TokenTTL = time.Hour; c.Now = clock.Now })
	tok := h.token("front-1", 100000)
	get := func() {
		t.Helper()
		res, b := h.do("GET", "/readyz", tok, nil, nil)
		require.EqualValues(t, 200, res.StatusCode, "readyz: %d %s", res.StatusCode, b)
	}
	get()
	n := h.sim.Stats().IdentityCalls
	require.EqualValues(t, 1, n, "identity calls %d", n)
	clock.Advance(56 * time.Minute) // 4 minutes left: inside the 5-minute refresh window
	h.mustSubmit(tok, "1850010868", 4999, "")
	require.Eventually(t, func() bool { return h.sim.Stats().IdentityCalls == 2 }, 5*time.Second, 5*time.Millisecond, "the background refresh")
	h.mustSubmit(tok, "1850010869", 4999, "")
	n = h.sim.Stats().IdentityCalls
	require.EqualValues(t, 2, n, "identity calls %d after the refresh", n)
}

func TestProxyUpstream401RemintsOnceAndReplays(t *testing.T) {
	h := newHarness(t)
	tok := h.devToken()
	h.mustSubmit(tok, "1850010868", 4999, "") // warm token
	require.NoError(t, h.sim.FailNext(1, 401, sim.FailOptions{Route: sim.RouteSubmit, Code: payroc.CodeNotAuthorized}))
	_, key := h.mustSubmit(tok, "1850010869", 4999, "")
	st := h.sim.Stats()
	require.EqualValues(t, 2, st.IdentityCalls, "identity %d, submits %d, instructions for key %d", st.IdentityCalls, st.Requests[sim.RouteSubmit], h.sim.InstructionsFor(key))
	require.EqualValues(t, 3, st.Requests[sim.RouteSubmit], "identity %d, submits %d, instructions for key %d", st.IdentityCalls, st.Requests[sim.RouteSubmit], h.sim.InstructionsFor(key))
	require.EqualValues(t, 1, h.sim.InstructionsFor(key), "identity %d, submits %d, instructions for key %d", st.IdentityCalls, st.Requests[sim.RouteSubmit], h.sim.InstructionsFor(key))
	// Payroc refusing even the fresh bearer is the proxy's problem, not the lane's: a 502, never a 401.
	require.NoError(t, h.sim.FailNext(2, 401, sim.FailOptions{Route: sim.RouteSubmit, Code: payroc.CodeNotAuthorized}))
	res, b, _ := h.submit(tok, "1850020001", 4999, "")
	problemOf(t, res, b, 502, "upstream-error")
	refused := h.logs.records("Payroc refused the proxy's bearer token")
	require.Len(t, refused, 1, "log lines of the refused bearer")
	require.Equal(t, "submit", refused[0]["route"], "the refused bearer's log line names the route: %v", refused[0])
	st = h.sim.Stats()
	require.EqualValues(t, 3, st.IdentityCalls)
	require.EqualValues(t, 5, st.Requests[sim.RouteSubmit])
}

func TestProxyIdentityOutage(t *testing.T) {
	clock := clocktest.New() // the backoff runs on it: no expiry mid-test, however slow the machine
	h := newHarness(t, func(_ *sim.Config, c *server.Config) {
		c.MintMinBackoff, c.MintMaxBackoff = time.Second, time.Second
		c.Now = clock.Now
	})
	tok := h.devToken()
	require.NoError(t, h.sim.FailNext(1, 503, sim.FailOptions{Route: sim.RouteIdentity}))
	res, b, key := h.submit(tok, "1850010868", 4999, "")
	problemOf(t, res, b, 503, "identity-unavailable")
	require.NotEmpty(t, res.Header.Get("Retry-After"), "503 without Retry-After")
	// During the backoff every caller gets the 503 at once, without a stampede on identity.
	for i := 0; i < 5; i++ {
		res, b, _ := h.submit(tok, "1850010868", 4999, key)
		problemOf(t, res, b, 503, "identity-unavailable")
	}
	st := h.sim.Stats()
	require.EqualValues(t, 1, st.Requests[sim.RouteIdentity], "identity calls %d, submits upstream %d", st.Requests[sim.RouteIdentity], st.Requests[sim.RouteSubmit])
	require.EqualValues(t, 0, st.Requests[sim.RouteSubmit], "identity calls %d, submits upstream %d", st.Requests[sim.RouteIdentity], st.Requests[sim.RouteSubmit])
	// The device was not left busy, and after the backoff it works.
	clock.Advance(1100 * time.Millisecond)
	h.mustSubmit(tok, "1850010868", 4999, key)
	n := h.sim.Stats().Requests[sim.RouteIdentity]
	require.EqualValues(t, 2, n, "identity calls %d", n)
}

func TestProxyWrongAPIKeyIsIdentityUnavailable(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.APIKey = "not-the-key-0000000000" })
	res, b, _ := h.submit(h.devToken(), "1850010868", 4999, "")
	problemOf(t, res, b, 503, "identity-unavailable")
	res, b = h.do("GET", "/readyz", "", nil, nil)
	problemOf(t, res, b, 503, "identity-unavailable")
	require.NotContains(t, h.logs.String(), "not-the-key", "the API key is in the logs")
}

func TestProxyUpstreamUnreachableAndSlow(t *testing.T) {
	closed := newHarness(t) // only for a URL that refuses connections
	deadURL := closed.simSrv.URL
	closed.simSrv.Close()

	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.APIURL = deadURL + "/v1" })
	res, b, _ := h.submit(h.devToken(), "1850010868", 4999, "")
	problemOf(t, res, b, 502, "upstream-error")

	slow := newHarness(t, func(_ *sim.Config, c *server.Config) { c.CallTimeout = lostAnswerTimeout })
	tok := slow.devToken()
	require.NoError(t, slow.sim.SetLatency(sim.RouteSubmit, time.Hour)) // held until the proxy gives up
	res, b, key := slow.submit(tok, "1850010868", 4999, "")
	problemOf(t, res, b, 504, "upstream-timeout")
	// Unknown whether the device got it: another key is refused, the same key goes through.
	res, b, _ = slow.submit(tok, "1850010868", 4999, "")
	problemOf(t, res, b, 409, "device-busy")
	_ = slow.sim.SetLatency(sim.RouteSubmit, 0)
	slow.mustSubmit(tok, "1850010868", 4999, key)
	n := slow.sim.InstructionsFor(key)
	require.EqualValues(t, 1, n, "%d instructions for one key", n)
}

func TestProxyAdminLaneTokens(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.AdminKey = testAdminKey; c.MaxAmount = 20000 })
	post := func(auth, body string) (*http.Response, []byte) {
		return h.do("POST", "/admin/lane-tokens", "", []byte(body), map[string]string{"Authorization": auth})
	}
	good := `{"devices":["1850010869"],"maxAmount":50000,"currency":"USD","ttl":"2h","lane":"front-1"}`
	res, b := post("", good)
	problemOf(t, res, b, 401, "not-authorized")
	res, b = post("Bearer "+testAdminKey+"x", good)
	problemOf(t, res, b, 401, "not-authorized")
	res, b = post("Bearer "+testAdminKey, `{"devices":["1850099999"],"maxAmount":5}`)
	p := problemOf(t, res, b, 400, "bad-request")
	require.True(t, fieldNamed(p, "devices[0]"), "%s", b)
	res, b = post("Bearer "+testAdminKey, `{"devices":["1850010869"],"maxAmount":5,"ttl":"forever"}`)
	problemOf(t, res, b, 400, "bad-request")
	res, b = post("Bearer "+testAdminKey, `{"devices":["1850010869"],"maxAmount":5,"extra":1}`)
	problemOf(t, res, b, 400, "bad-request")
	res, b = h.do("GET", "/admin/lane-tokens", "", nil, map[string]string{"Authorization": "Bearer " + testAdminKey})
	problemOf(t, res, b, 405, "method-not-allowed")

	res, b = post("Bearer "+testAdminKey, good)
	require.EqualValues(t, 200, res.StatusCode, "issue: %d %s", res.StatusCode, b)
	var tr server.TokenResponse
	err := json.Unmarshal(b, &tr)
	require.NoError(t, err, "%s: %v", b, err)
	require.NotEmpty(t, tr.Token, "%s: %v", b, err)
	require.Equal(t, "front-1", tr.Lane, "%s: %v", b, err)
	exp, err := time.Parse(time.RFC3339, tr.ExpiresAt)
	require.NoError(t, err, "expiresAt %s", tr.ExpiresAt)
	require.GreaterOrEqual(t, time.Until(exp), 119*time.Minute, "expiresAt %s", tr.ExpiresAt)
	require.LessOrEqual(t, time.Until(exp), 121*time.Minute, "expiresAt %s", tr.ExpiresAt)
	res, b = h.do("GET", "/lane", tr.Token, nil, nil)
	var info server.LaneInfo
	require.EqualValues(t, 200, res.StatusCode, "/lane: %d %s", res.StatusCode, b)
	require.NoError(t, json.Unmarshal(b, &info), "/lane: %d %s", res.StatusCode, b)
	assert.Equal(t, "front-1", info.Lane)
	assert.Equal(t, []server.LaneDevice{{SerialNumber: "1850010869", ProcessingTerminalID: "1234002", Label: "Counter 2"}}, info.Devices)
	assert.Equal(t, int64(20000), info.MaxAmount)
	assert.Equal(t, "USD", info.Currency)
	assert.Equal(t, tr.ExpiresAt, info.ExpiresAt)
	require.NotContains(t, h.logs.String(), tr.Token, "an issued lane token is in the logs")

	// Without PROXY_ADMIN_KEY the endpoint does not exist; outside simulator mode neither does /dev/token.
	plain := newHarness(t, func(_ *sim.Config, c *server.Config) { c.Simulate = false })
	res, b = plain.do("POST", "/admin/lane-tokens", "", []byte(good), map[string]string{"Authorization": "Bearer " + testAdminKey})
	problemOf(t, res, b, 404, "not-found")
	res, b = plain.do("GET", "/dev/token", "", nil, nil)
	problemOf(t, res, b, 404, "not-found")
}

func TestProxyLaneAndDevToken(t *testing.T) {
	h := newHarness(t)
	tok := h.devToken()
	res, b := h.do("GET", "/lane", tok, nil, nil)
	var info server.LaneInfo
	require.EqualValues(t, 200, res.StatusCode, "/lane: %d %s", res.StatusCode, b)
	require.NoError(t, json.Unmarshal(b, &info), "/lane: %d %s", res.StatusCode, b)
	require.Equal(t, "dev", info.Lane, "/lane %+v", info)
	require.Len(t, info.Devices, 4, "/lane %+v", info)
	require.EqualValues(t, 100000, info.MaxAmount, "/lane %+v", info)
	require.Equal(t, "USD", info.Currency, "/lane %+v", info)
	exp, _ := time.Parse(time.RFC3339, info.ExpiresAt)
	d := time.Until(exp)
	require.GreaterOrEqual(t, d, 11*time.Hour, "dev token lives %v", d)
	require.LessOrEqual(t, d, 12*time.Hour+time.Minute, "dev token lives %v", d)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"), "/lane is cacheable")
	res, b = h.do("GET", "/lane", "", nil, nil)
	problemOf(t, res, b, 401, "lane-token-missing")
	res, b = h.do("POST", "/lane", tok, nil, nil)
	problemOf(t, res, b, 405, "method-not-allowed")
}

func TestProxyConfigRefusedAtStart(t *testing.T) {
	base := func() server.Config {
		return server.Config{APIURL: "http://127.0.0.1:1/v1", IdentityURL: "http://127.0.0.1:1", APIKey: "k", WebDir: t.TempDir(),
			TokenSecrets: [][]byte{[]byte(testSecret)}, Devices: []server.Device{{Serial: "1850010868", TerminalID: "1234001"}}}
	}
	_, err := server.New(base())
	require.NoError(t, err, "base config")
	for _, tc := range []struct {
		name, field string
		edit        func(*server.Config)
	}{
		{"no API key", "APIKey", func(c *server.Config) { c.APIKey = "" }},
		{"no devices", "Devices", func(c *server.Config) { c.Devices = nil }},
		{"device without terminal", "Devices", func(c *server.Config) { c.Devices[0].TerminalID = "" }},
		{"duplicate device", "Devices", func(c *server.Config) { c.Devices = append(c.Devices, c.Devices[0]) }},
		{"no signing key", "TokenSecrets", func(c *server.Config) { c.TokenSecrets = nil }},
		{"short signing key", "TokenSecrets", func(c *server.Config) { c.TokenSecrets = [][]byte{[]byte("short")} }},
		{"short admin key", "AdminKey", func(c *server.Config) { c.AdminKey = "short" }},
		{"no api url", "APIURL", func(c *server.Config) { c.APIURL = "" }},
		{"bad api url", "APIURL", func(c *server.Config) { c.APIURL = "ftp://x" }},
		{"bad identity url", "IdentityURL", func(c *server.Config) { c.IdentityURL = "http://user:pw@x" }},
		{"bad public url", "PublicURL", func(c *server.Config) { c.PublicURL = "pos.example" }},
		{"origin with path", "AllowOrigins", func(c *server.Config) { c.AllowOrigins = []string{"https://a.example/x"} }},
		{"cert without key", "TLSKeyFile", func(c *server.Config) { c.TLSCertFile = "c.pem" }},
		{"key without cert", "TLSCertFile", func(c *server.Config) { c.TLSKeyFile = "k.pem" }},
		{"negative max amount", "MaxAmount", func(c *server.Config) { c.MaxAmount = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			_, err := server.New(c)
			var fe *server.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.Contains(t, err.Error(), "server.Config."+tc.field)
			assert.NotContains(t, err.Error(), "\n", "one line")
			assert.NotContains(t, err.Error(), "pw@", "a password in a URL is redacted")
		})
	}
}

func TestParseDevices(t *testing.T) {
	devs, err := server.ParseDevices("1850010868=1234001=Front till, 1850010869=1234002")
	require.NoError(t, err)
	assert.Equal(t, []server.Device{{Serial: "1850010868", TerminalID: "1234001", Label: "Front till"},
		{Serial: "1850010869", TerminalID: "1234002"}}, devs)
	_, err = server.ParseDevices("1850010868")
	assert.ErrorContains(t, err, "SERIAL=TERMINAL", "a device without terminal")
}

func TestProxyHealthAndMetrics(t *testing.T) {
	h := newHarness(t)
	res, b := h.do("GET", "/healthz", "", nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "/healthz: %d %s", res.StatusCode, b)
	require.Contains(t, string(b), `"version":"test"`, "/healthz: %d %s", res.StatusCode, b)
	tok := h.devToken()
	inst, _ := h.mustSubmit(tok, "1850010868", 4999, "")
	h.do("GET", "/v1/nope", tok, nil, nil)
	res, b = h.do("GET", "/metrics", "", nil, nil)
	require.EqualValues(t, 200, res.StatusCode, "/metrics: %d", res.StatusCode)
	m := string(b)
	for _, want := range []string{
		`payroc_proxy_requests_total{code="202",route="submit"} 1`,
		`payroc_proxy_requests_total{code="404",route="other"} 1`,
		`payroc_proxy_token_mints_total{result="ok"} 1`,
		`payroc_proxy_busy_devices 1`,
		`payroc_proxy_open_long_polls 0`,
		`payroc_proxy_upstream_seconds_count{route="submit"} 1`,
	} {
		assert.Contains(t, m, want, "metrics lack %s", want)
	}
	h.waitFinal(tok, inst.RefundInstructionID)
	_, b = h.do("GET", "/metrics", "", nil, nil)
	assert.Contains(t, string(b), "payroc_proxy_busy_devices 0", "the device is still counted busy after its final status")
	assert.NotContains(t, string(b), testAPIKey, "the API key is in the metrics")
}
