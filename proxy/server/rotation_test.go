package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
)

// Signing-key rotation (PROXY_TOKEN_SECRET=new,old): tokens signed by either key are accepted, the proxy
// signs only with the first, and once the old key is removed its tokens are refused.
func TestSigningKeyRotation(t *testing.T) {
	newKey := []byte("rotation-new-key-0123456789abcdef0123456789")
	oldKey := []byte("rotation-old-key-0123456789abcdef0123456789")
	otherKey := []byte("rotation-other-key-0123456789abcdef01234567")
	signer := func(key []byte) func() string {
		ring, err := lane.NewKeyring([][]byte{key})
		require.NoError(t, err)
		return func() string {
			tok, _, err := ring.Issue(lane.Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Hour})
			require.NoError(t, err)
			return tok
		}
	}
	withSecrets := func(keys ...[]byte) option {
		return func(_ *sim.Config, c *server.Config) { c.TokenSecrets = keys }
	}
	both := newHarness(t, withSecrets(newKey, oldKey))
	onlyNew := newHarness(t, withSecrets(newKey))
	for _, tc := range []struct {
		name   string
		h      *harness
		token  string
		status int
	}{
		{"a token of the new key during the rotation", both, signer(newKey)(), http.StatusOK},
		{"a token of the old key during the rotation", both, signer(oldKey)(), http.StatusOK},
		{"a token of neither key", both, signer(otherKey)(), http.StatusUnauthorized},
		{"a token of the old key once it is removed", onlyNew, signer(oldKey)(), http.StatusUnauthorized},
		{"a token of the new key once the old is removed", onlyNew, signer(newKey)(), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, b := tc.h.do("GET", "/lane", tc.token, nil, nil)
			if tc.status == http.StatusUnauthorized {
				problemOf(t, res, b, http.StatusUnauthorized, "lane-token-invalid")
				return
			}
			require.Equal(t, tc.status, res.StatusCode, "%s", b)
		})
	}
	// What the proxy issues is signed with the first key only.
	var tr server.TokenResponse
	res, b := both.do("GET", "/dev/token", "", nil, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
	require.NoError(t, json.Unmarshal(b, &tr))
	for key, verifies := range map[string]bool{string(newKey): true, string(oldKey): false} {
		ring, err := lane.NewKeyring([][]byte{[]byte(key)})
		require.NoError(t, err)
		_, err = ring.Verify(tr.Token)
		require.Equal(t, verifies, err == nil, "the issued token verifies with the %.12s… key: %v", key, err)
	}
}
