package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
)

func TestMemoryRevocations(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()

	t.Run("RevokedUntilItsTime", func(t *testing.T) {
		m := server.NewMemoryRevocations(clock.Now, 10)
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(time.Hour)))
		got, err := m.Revoked(ctx, "tok-1")
		require.NoError(t, err)
		assert.True(t, got, "a token just revoked must be refused")
		got, _ = m.Revoked(ctx, "tok-2")
		assert.False(t, got, "another token id must not be refused")

		clock.Advance(time.Hour)
		got, _ = m.Revoked(ctx, "tok-1")
		assert.False(t, got, "a revocation must lapse when the token would have expired")
		assert.Equal(t, 0, m.Len(), "a lapsed entry must be forgotten")
	})
	t.Run("SecondRevocationNeverShortens", func(t *testing.T) {
		m := server.NewMemoryRevocations(clock.Now, 10)
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(2*time.Hour)))
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(time.Minute)))
		clock.Advance(time.Hour)
		got, _ := m.Revoked(ctx, "tok-1")
		assert.True(t, got, "revoking again with an earlier end must keep the later one")
	})
	t.Run("PastUntilRecordsNothing", func(t *testing.T) {
		m := server.NewMemoryRevocations(clock.Now, 10)
		require.NoError(t, m.Revoke(ctx, "tok-1", clock.Now().Add(-time.Second)))
		assert.Equal(t, 0, m.Len())
	})
	t.Run("FullNeverDropsALiveEntry", func(t *testing.T) {
		m := server.NewMemoryRevocations(clock.Now, 2)
		require.NoError(t, m.Revoke(ctx, "short", clock.Now().Add(time.Minute)))
		require.NoError(t, m.Revoke(ctx, "long", clock.Now().Add(time.Hour)))
		err := m.Revoke(ctx, "third", clock.Now().Add(time.Hour))
		require.ErrorIs(t, err, server.ErrRevocationsFull, "a full list must refuse rather than forget a revocation")
		require.NoError(t, m.Revoke(ctx, "long", clock.Now().Add(2*time.Hour)), "an id already listed is no new entry")

		clock.Advance(time.Minute) // "short" lapses and makes room
		require.NoError(t, m.Revoke(ctx, "third", clock.Now().Add(time.Hour)))
		for _, id := range []string{"long", "third"} {
			got, _ := m.Revoked(ctx, id)
			assert.True(t, got, "%s must still be revoked", id)
		}
	})
}

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
	clock := newFakeClock()
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

// brokenRevocations stands for a shared list that cannot be reached.
type brokenRevocations struct{}

func (brokenRevocations) Revoke(context.Context, string, time.Time) error {
	return errors.New("connection refused")
}

func (brokenRevocations) Revoked(context.Context, string) (bool, error) {
	return false, errors.New("connection refused")
}

func TestProxyRevocationsUnreadableFailsClosed(t *testing.T) {
	h := newHarness(t, func(_ *sim.Config, c *server.Config) {
		c.AdminKey = testAdminKey
		c.Revocations = brokenRevocations{}
	})
	tok := h.token("front-1", 50000)
	res, b, _ := h.submit(tok, "1850010868", 1234, "")
	p := problemOf(t, res, b, 503, "state-unavailable")
	assert.NotEmpty(t, res.Header.Get("Retry-After"), "%v", p)
	assert.Zero(t, h.upstreamTotal(), "nothing may be forwarded while the revocation list is unreadable")

	res, b = h.revoke("Bearer "+testAdminKey, "0123456789abcdef")
	problemOf(t, res, b, 503, "state-unavailable")
}
