package lane

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	keyA = []byte("0123456789abcdef0123456789abcdef-key-a")
	keyB = []byte("0123456789abcdef0123456789abcdef-key-b")
)

func ring(t testing.TB, keys ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(keys)
	require.NoError(t, err)
	return k
}

func TestLaneIssueVerifyRoundTrip(t *testing.T) {
	k := ring(t, keyA)
	tok, c, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868", "1850010869"}, MaxAmount: 5000, TTL: time.Hour})
	require.NoError(t, err)
	got, err := k.Verify(tok)
	require.NoError(t, err)
	assert.Equal(t, c.ID, got.ID)
	assert.Equal(t, "front-1", got.Lane)
	assert.Equal(t, int64(5000), got.MaxAmount)
	assert.Equal(t, "USD", got.Currency, "the default currency")
	assert.Equal(t, []string{"1850010868", "1850010869"}, got.Devices)
	assert.Equal(t, time.Hour, got.Expiry().Sub(time.Unix(got.IssuedAt, 0)), "lifetime")
}

func TestLaneVerifyRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ring(t, keyA)
		now := time.Now()
		good, _, err := k.Issue(Spec{Devices: []string{"1850010868"}, MaxAmount: 100, TTL: time.Minute})
		require.NoError(t, err)
		foreign, _, err := ring(t, keyB).Issue(Spec{Devices: []string{"1850010868"}, MaxAmount: 100})
		require.NoError(t, err)
		dot := strings.LastIndexByte(good, '.')
		sig, err := base64.RawURLEncoding.DecodeString(good[dot+1:])
		require.NoError(t, err)
		sig[0] ^= 1
		flipped := good[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
		// A token with claims that fail Check, properly signed.
		bad, err := k.Sign(&Claims{ID: "x", Lane: "l", Devices: []string{"1850010868"}, MaxAmount: 0, Currency: "USD", IssuedAt: 1, ExpiresAt: now.Add(time.Hour).Unix()})
		require.NoError(t, err)
		// Signed, valid but for a lifetime over MaxTTL (a revocation lasts MaxTTL, so no token may outlive it).
		long, err := k.Sign(&Claims{ID: "y", Lane: "l", Devices: []string{"1850010868"}, MaxAmount: 100, Currency: "USD",
			IssuedAt: now.Unix(), ExpiresAt: now.Add(MaxTTL + time.Second).Unix()})
		require.NoError(t, err)
		for _, tc := range []struct{ name, tok string }{
			{"empty", ""},
			{"lifetime over MaxTTL", long},
			{"garbage", "hello"},
			{"no signature", good[:dot]},
			{"flipped signature bit", flipped},
			{"other key", foreign},
			{"claims swapped", strings.Replace(good, good[4:dot], base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"x"}`)), 1)},
			{"bad claims", bad},
			{"huge", "pl1." + strings.Repeat("A", MaxTokenBytes)},
			{"padding", good + "="},
		} {
			c, err := k.Verify(tc.tok) // no t.Run inside a synctest bubble: the case names the failure
			assert.ErrorIs(t, err, ErrInvalid, tc.name)
			assert.Nil(t, c, "%s: claims of a refused token", tc.name)
		}
		time.Sleep(time.Minute)
		c, err := k.Verify(good)
		assert.ErrorIs(t, err, ErrExpired, "a minute later")
		assert.NotNil(t, c, "an expired token's claims come with ErrExpired")
	})
}

func TestLaneKeyRotation(t *testing.T) {
	old := ring(t, keyA)
	tok, _, err := old.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 100})
	require.NoError(t, err)
	rotated := ring(t, keyB, keyA) // new key signs, old still verifies
	_, err = rotated.Verify(tok)
	require.NoError(t, err, "an old token under the rotated ring")
	fresh, _, err := rotated.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 100})
	require.NoError(t, err)
	_, err = ring(t, keyB).Verify(fresh)
	require.NoError(t, err, "a new token is signed with the new key")
	_, err = old.Verify(fresh)
	assert.ErrorIs(t, err, ErrInvalid, "a new token under the old ring")
}

func TestLaneIssueRefusesBadSpecs(t *testing.T) {
	k := ring(t, keyA)
	for _, tc := range []struct {
		name string
		spec Spec
		want string // what the error names
	}{
		{"no devices", Spec{MaxAmount: 1}, "devices"},
		{"zero amount", Spec{Devices: []string{"1"}}, "maxAmount"},
		{"bad currency", Spec{Devices: []string{"1"}, MaxAmount: 1, Currency: "usd"}, "currency"},
		{"bad lane", Spec{Lane: "front 1", Devices: []string{"1"}, MaxAmount: 1}, "lane"},
		{"slash in serial", Spec{Devices: []string{"a/b"}, MaxAmount: 1}, "devices"},
		{"duplicate serial", Spec{Devices: []string{"1", "1"}, MaxAmount: 1}, "devices"},
		{"ttl too long", Spec{Devices: []string{"1"}, MaxAmount: 1, TTL: MaxTTL + time.Hour}, "ttl"},
		{"negative ttl", Spec{Devices: []string{"1"}, MaxAmount: 1, TTL: -time.Hour}, "ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := k.Issue(tc.spec)
			assert.ErrorContains(t, err, tc.want)
			assert.Empty(t, tok)
		})
	}
}

func TestLaneParseSecrets(t *testing.T) {
	long := strings.Repeat("k", 32)
	keys, err := ParseSecrets(" " + long + "1 , " + long + "2,")
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte(long + "1"), []byte(long + "2")}, keys)
	for _, s := range []string{"", " , ", long + ",short"} {
		_, err := ParseSecrets(s)
		require.Error(t, err, "ParseSecrets(%q)", s)
		assert.NotContains(t, err.Error(), long, "the error quotes a key")
		assert.NotContains(t, err.Error(), "short", "the error quotes a key")
	}
	_, err = NewKeyring([][]byte{[]byte("short")})
	assert.Error(t, err, "NewKeyring with a short key")
}

// FuzzLaneVerify: no input panics, and anything accepted is a token this keyring signed for valid claims.
func FuzzLaneVerify(f *testing.F) {
	k := ring(f, keyA)
	good, _, _ := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 100})
	f.Add(good)
	f.Add("pl1..")
	f.Add("pl1.e30.AAAA")
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := k.Verify(tok)
		if err == nil || errors.Is(err, ErrExpired) {
			require.NotNil(t, c, "claims of accepted %q", tok)
			require.NoError(t, c.Check(), "claims of accepted %q", tok)
			again, err := k.Sign(c)
			require.NoError(t, err, "re-signing")
			require.NotEmpty(t, again)
			return
		}
		require.ErrorIs(t, err, ErrInvalid, "Verify(%q)", tok)
		require.Nil(t, c, "claims of refused %q", tok)
	})
}

// FuzzLaneClaims signs arbitrary claim bytes with the right key, so the fuzzer reaches the claims parser that
// a forged signature never would: nothing panics, and whatever is accepted passes Check.
func FuzzLaneClaims(f *testing.F) {
	k := ring(f, keyA)
	f.Add([]byte(`{"jti":"a","lane":"front-1","dev":["1850010868"],"max":100,"cur":"USD","iat":1,"exp":99999999999}`))
	f.Add([]byte(`{"jti":"a","lane":"front-1","dev":["1850010868"],"max":100,"cur":"USD","iat":1,"exp":2}`))
	f.Add([]byte(`{"jti":"a","lane":"x","dev":[],"max":-1}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		payload := prefix + base64.RawURLEncoding.EncodeToString(body)
		tok := payload + "." + base64.RawURLEncoding.EncodeToString(mac(keyA, payload))
		c, err := k.Verify(tok)
		if err == nil || errors.Is(err, ErrExpired) {
			require.NotNil(t, c, "claims of accepted %q", body)
			require.NoError(t, c.Check(), "claims of accepted %q", body)
			require.NotEmpty(t, c.ID, "token id of accepted %q", body)
			return
		}
		require.ErrorIs(t, err, ErrInvalid, "Verify of %q", body)
		require.Nil(t, c, "claims of refused %q", body)
	})
}

// BenchmarkLaneVerify is the lane-token check every proxied call pays (three keys, as during a rotation).
func BenchmarkLaneVerify(b *testing.B) {
	k := ring(b, []byte("0123456789abcdef0123456789abcdef-key-c"), keyB, keyA)
	old := ring(b, keyA)
	tok, _, _ := old.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868", "1850010869"}, MaxAmount: 100})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
