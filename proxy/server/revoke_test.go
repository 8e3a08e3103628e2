package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/clocktest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/proxy/state"
)

// adminToken issues a lane token through POST /admin/lane-tokens.
func (h *harness) adminToken(laneID string, ttl string) server.TokenResponse {
	h.t.Helper()
	body := fmt.Sprintf(`{"devices":["1850010868"],"maxAmount":50000,"ttl":%q,"lane":%q}`, ttl, laneID)
	res, b := h.do("POST", "/admin/lane-tokens", "", []byte(body), map[string]string{"Authorization": "Bearer " + testAdminKey})
	require.Equal(h.t, http.StatusOK, res.StatusCode, "issue: %s", b)
	var tr server.TokenResponse
	require.NoError(h.t, json.Unmarshal(b, &tr))
	require.NotEmpty(h.t, tr.TokenID)
	return tr
}

func (h *harness) revoke(auth, tokenID string) (*http.Response, []byte) {
	h.t.Helper()
	return h.do("DELETE", "/admin/lane-tokens/"+tokenID, "", nil, map[string]string{"Authorization": auth})
}

func TestProxyRevokeLaneToken(t *testing.T) {
	clock := clocktest.New()
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.AdminKey = testAdminKey; c.Now = clock.Now })
	admin := "Bearer " + testAdminKey
	tr := h.adminToken("front-1", "2h")
	other := h.adminToken("front-1", "2h") // the same lane, signed in again
	res, b := h.do("GET", "/lane", tr.Token, nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the token works before its revocation: %s", b)

	res, b = h.revoke("", tr.TokenID)
	problemOf(t, res, b, 401, "not-authorized")
	res, b = h.revoke(admin+"x", tr.TokenID)
	problemOf(t, res, b, 401, "not-authorized")
	res, b = h.do("GET", "/admin/lane-tokens/"+tr.TokenID, "", nil, map[string]string{"Authorization": admin})
	problemOf(t, res, b, 405, "method-not-allowed")
	res, b = h.revoke(admin, strings.Repeat("a", 65))
	assert.True(t, fieldNamed(problemOf(t, res, b, 400, "bad-request"), "tokenId"), "a malformed id is named: %s", b)
	res, b = h.do("GET", "/lane", tr.Token, nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "refused revocations must change nothing: %s", b)

	res, b = h.revoke(admin, tr.TokenID)
	require.Equal(t, http.StatusNoContent, res.StatusCode, "%s", b)
	assert.Empty(t, b)

	res, b = h.do("GET", "/lane", tr.Token, nil, nil)
	problemOf(t, res, b, 401, "lane-token-revoked")
	before := h.upstreamTotal()
	res, b, _ = h.submit(tr.Token, "1850010868", 1234, "")
	problemOf(t, res, b, 401, "lane-token-revoked")
	assert.Equal(t, before, h.upstreamTotal(), "a revoked token's submit must never reach Payroc")
	res, b = h.do("GET", "/lane", other.Token, nil, nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, "another token of the same lane stays valid: %s", b)

	for _, id := range []string{tr.TokenID, "0123456789abcdef"} { // again; never issued
		res, b = h.revoke(admin, id)
		assert.Equal(t, http.StatusNoContent, res.StatusCode, "revoking %s: %s", id, b)
	}

	// Still refused just before the token's own expiry; after it, the expiry speaks.
	clock.Advance(2*time.Hour - time.Second)
	res, b = h.do("GET", "/lane", tr.Token, nil, nil)
	problemOf(t, res, b, 401, "lane-token-revoked")
	clock.Advance(time.Second)
	res, b = h.do("GET", "/lane", tr.Token, nil, nil)
	problemOf(t, res, b, 401, "lane-token-expired")

	audit := h.logs.records("audit")
	var revoked []map[string]any
	for _, r := range audit {
		if r["event"] == "lane-token-revoked" {
			revoked = append(revoked, r)
		}
	}
	require.Len(t, revoked, 3, "one audit line per revocation")
	assert.Equal(t, tr.TokenID, revoked[0]["laneTokenId"])
	assert.NotContains(t, h.logs.String(), tr.Token, "a lane token must never be logged")

	res, b = h.do("GET", "/metrics", "", nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(b), "payroc_proxy_lane_tokens_revoked_total 3")
}

func TestProxyRevokeNeedsTheAdminKey(t *testing.T) {
	h := newHarness(t)
	res, b := h.revoke("Bearer "+testAdminKey, "0123456789abcdef")
	problemOf(t, res, b, 404, "not-found")
}

// A lane token from `proxy token` (offline, never seen by the proxy) is revoked by its id as well.
func TestProxyRevokeOfflineToken(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.AdminKey = testAdminKey })
	tok, c, err := h.keys.Issue(lane.Spec{Lane: "kiosk-2", Devices: []string{"1850010868"}, MaxAmount: 100, TTL: lane.MaxTTL})
	require.NoError(t, err)
	res, b := h.revoke("Bearer "+testAdminKey, c.ID)
	require.Equal(t, http.StatusNoContent, res.StatusCode, "%s", b)
	res, b = h.do("GET", "/lane", tok, nil, nil)
	problemOf(t, res, b, 401, "lane-token-revoked")
}

// revocationsDown stands for a shared state whose revocation list cannot be read: the calls that check a
// token, and revoking, fail.
type revocationsDown struct{ state.State }

var errDown = fmt.Errorf("%w: connection refused", state.ErrUnavailable)

func (revocationsDown) Reserve(context.Context, string, state.Reservation, time.Time) (state.Admission, state.ReserveResult, error) {
	return state.Admission{}, state.Reserved, errDown
}

func (revocationsDown) Revoke(context.Context, string, time.Time) error { return errDown }

func TestProxyRevocationsUnreadableFailsClosed(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) {
		c.AdminKey = testAdminKey
		c.State = revocationsDown{state.NewMemory(state.Settings{})}
	})
	tok := h.token("front-1", 50000)
	res, b, _ := h.submit(tok, "1850010868", 1234, "")
	p := problemOf(t, res, b, 503, "state-unavailable")
	assert.NotEmpty(t, res.Header.Get("Retry-After"), "%v", p)
	assert.Zero(t, h.upstreamTotal(), "nothing may be forwarded while the revocation list is unreadable")

	res, b = h.revoke("Bearer "+testAdminKey, "0123456789abcdef")
	problemOf(t, res, b, 503, "state-unavailable")
}
