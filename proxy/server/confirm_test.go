package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// GET /lane says when the page must ask for a confirmation and what the receipt prints about the merchant:
// a token's own confirmAbove (from the admin body) wins over Config.ConfirmAbove; 0 in the body is kept
// (confirm every refund); without either, DefaultConfirmAbove.
func TestLaneConfirmAboveAndMerchant(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  int64
		body string // the admin body's confirmAbove member, "" for none
		want int64
	}{
		{"Default", 0, "", server.DefaultConfirmAbove},
		{"ProxySetting", 2500, "", 2500},
		{"EveryRefund", -1, "", 0},
		{"TokenClaim", 2500, `,"confirmAbove":700`, 700},
		{"TokenClaimZero", 2500, `,"confirmAbove":0`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *sim.Config, c *server.Config) {
				c.ConfirmAbove = tc.cfg
				c.AdminKey = testAdminKey
				c.MerchantName, c.MerchantAddress = "Corner Hardware", "100 Main Street, Springfield"
			})
			res, body := h.do("POST", "/admin/lane-tokens", testAdminKey,
				[]byte(`{"devices":["1850010868"],"maxAmount":50000`+tc.body+`}`), map[string]string{"Content-Type": "application/json"})
			require.Equal(t, 200, res.StatusCode, "%s", body)
			var tok server.TokenResponse
			require.NoError(t, json.Unmarshal(body, &tok))

			res, body = h.do("GET", "/lane", tok.Token, nil, nil)
			require.Equal(t, 200, res.StatusCode, "%s", body)
			var info server.LaneInfo
			require.NoError(t, json.Unmarshal(body, &info))
			assert.Equal(t, tc.want, info.ConfirmAbove)
			assert.Equal(t, server.LaneMerchant{Name: "Corner Hardware", Address: "100 Main Street, Springfield"}, info.Merchant)
		})
	}

	t.Run("DuplicateWindow", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			cfg  time.Duration
			want int64
		}{
			{"Default", 0, 600},
			{"ProxySetting", 90 * time.Second, 90},
			{"Never", -1, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.DuplicateWindow = tc.cfg })
				res, body := h.do("GET", "/lane", h.devToken(), nil, nil)
				require.Equal(t, 200, res.StatusCode, "%s", body)
				var info server.LaneInfo
				require.NoError(t, json.Unmarshal(body, &info))
				assert.Equal(t, tc.want, info.DuplicateWindow, "duplicateWindow (seconds) in GET /lane")
			})
		}
	})

	t.Run("RefusedClaim", func(t *testing.T) {
		h := newHarness(t, func(_ *sim.Config, c *server.Config) { c.AdminKey = testAdminKey })
		res, _ := h.do("POST", "/admin/lane-tokens", testAdminKey,
			[]byte(`{"devices":["1850010868"],"maxAmount":50000,"confirmAbove":-1}`), map[string]string{"Content-Type": "application/json"})
		assert.Equal(t, 400, res.StatusCode)
	})
}
