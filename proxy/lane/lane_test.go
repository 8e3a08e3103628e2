package lane

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	keyA = []byte("0123456789abcdef0123456789abcdef-key-a")
	keyB = []byte("0123456789abcdef0123456789abcdef-key-b")
)

func ring(t testing.TB, keys ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(keys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLaneIssueVerifyRoundTrip(t *testing.T) {
	k := ring(t, keyA)
	tok, c, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868", "1850010869"}, MaxAmount: 5000, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.Lane != "front-1" || got.MaxAmount != 5000 || got.Currency != "USD" ||
		!got.HasDevice("1850010869") || got.HasDevice("1850010870") {
		t.Fatalf("claims = %+v", got)
	}
	if d := got.Expiry().Sub(time.Unix(got.IssuedAt, 0)); d != time.Hour {
		t.Fatalf("lifetime %v", d)
	}
}

func TestLaneVerifyRefusals(t *testing.T) {
	k := ring(t, keyA)
	now := time.Now()
	k.Now = func() time.Time { return now }
	good, _, err := k.Issue(Spec{Devices: []string{"1850010868"}, MaxAmount: 100, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	other := ring(t, keyB)
	foreign, _, _ := other.Issue(Spec{Devices: []string{"1850010868"}, MaxAmount: 100})
	dot := strings.LastIndexByte(good, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(good[dot+1:])
	sig[0] ^= 1
	flipped := good[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
	// A token with claims that fail Check, properly signed.
	bad, _ := k.Sign(&Claims{ID: "x", Lane: "l", Devices: []string{"1850010868"}, MaxAmount: 0, Currency: "USD", IssuedAt: 1, ExpiresAt: now.Add(time.Hour).Unix()})
	// Signed, valid but for a lifetime over MaxTTL (a revocation lasts MaxTTL, so no token may outlive it).
	long, _ := k.Sign(&Claims{ID: "y", Lane: "l", Devices: []string{"1850010868"}, MaxAmount: 100, Currency: "USD",
		IssuedAt: now.Unix(), ExpiresAt: now.Add(MaxTTL + time.Second).Unix()})
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
		t.Run(tc.name, func(t *testing.T) {
			if _, err := k.Verify(tc.tok); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
	now = now.Add(time.Minute)
	c, err := k.Verify(good)
	if !errors.Is(err, ErrExpired) || c == nil {
		t.Fatalf("after expiry: %v, %v", c, err)
	}
}

func TestLaneKeyRotation(t *testing.T) {
	old := ring(t, keyA)
	tok, _, _ := old.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 100})
	rotated := ring(t, keyB, keyA) // new key signs, old still verifies
	if _, err := rotated.Verify(tok); err != nil {
		t.Fatalf("old token under rotated ring: %v", err)
	}
	fresh, _, _ := rotated.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 100})
	if _, err := ring(t, keyB).Verify(fresh); err != nil {
		t.Fatalf("new token signed with the new key: %v", err)
	}
	if _, err := old.Verify(fresh); !errors.Is(err, ErrInvalid) {
		t.Fatalf("new token under the old ring: %v", err)
	}
}

func TestLaneIssueRefusesBadSpecs(t *testing.T) {
	k := ring(t, keyA)
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"no devices", Spec{MaxAmount: 1}},
		{"zero amount", Spec{Devices: []string{"1"}}},
		{"bad currency", Spec{Devices: []string{"1"}, MaxAmount: 1, Currency: "usd"}},
		{"bad lane", Spec{Lane: "front 1", Devices: []string{"1"}, MaxAmount: 1}},
		{"slash in serial", Spec{Devices: []string{"a/b"}, MaxAmount: 1}},
		{"duplicate serial", Spec{Devices: []string{"1", "1"}, MaxAmount: 1}},
		{"ttl too long", Spec{Devices: []string{"1"}, MaxAmount: 1, TTL: MaxTTL + time.Hour}},
		{"negative ttl", Spec{Devices: []string{"1"}, MaxAmount: 1, TTL: -time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, _, err := k.Issue(tc.spec); err == nil {
				t.Fatalf("Issue gave %q", tok)
			}
		})
	}
}

func TestLaneParseSecrets(t *testing.T) {
	long := strings.Repeat("k", 32)
	keys, err := ParseSecrets(" " + long + "1 , " + long + "2,")
	if err != nil || len(keys) != 2 || string(keys[0]) != long+"1" {
		t.Fatalf("ParseSecrets = %q, %v", keys, err)
	}
	for _, s := range []string{"", " , ", long + ",short"} {
		_, err := ParseSecrets(s)
		if err == nil {
			t.Fatalf("ParseSecrets(%q) accepted", s)
		}
		if strings.Contains(err.Error(), long) || strings.Contains(err.Error(), "short") {
			t.Fatalf("error quotes a key: %v", err)
		}
	}
	if _, err := NewKeyring([][]byte{[]byte("short")}); err == nil {
		t.Fatal("NewKeyring accepted a short key")
	}
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
			if c == nil || c.Check() != nil {
				t.Fatalf("accepted %q with claims %+v", tok, c)
			}
			if again, err := k.Sign(c); err != nil || again == "" {
				t.Fatalf("re-sign: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrInvalid) || c != nil {
			t.Fatalf("Verify(%q) = %+v, %v", tok, c, err)
		}
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
		switch {
		case err == nil || errors.Is(err, ErrExpired):
			if c == nil || c.Check() != nil || c.ID == "" {
				t.Fatalf("accepted %q as %+v", body, c)
			}
		case !errors.Is(err, ErrInvalid) || c != nil:
			t.Fatalf("Verify = %+v, %v", c, err)
		}
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
