package sim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// Bearer tokens are JWT-shaped (header.payload.signature, HS256 under a key made at New), so verifying one
// needs no table: memory stays bounded however many tokens are minted, and a token from another simulator
// instance is refused.

type tokenClaims struct {
	Iss   string `json:"iss"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`    // seconds, as JWTs have it
	ExpMs int64  `json:"exp_ms"` // what is checked: tests use sub-second lifetimes
	Jti   string `json:"jti"`
}

var tokenHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// tokenScope is the scope identity reports; Payroc's sample is a space-separated list.
const tokenScope = "payroc-cloud refunds"

func (s *Simulator) mintToken(now time.Time) string {
	exp := now.Add(s.cfg.TokenTTL)
	c := tokenClaims{Iss: "payroc-simulator", Iat: now.Unix(), Exp: (exp.UnixMilli() + 999) / 1000, ExpMs: exp.UnixMilli(), Jti: rand.Text()}
	b, _ := json.Marshal(c)
	signing := tokenHeader + "." + base64.RawURLEncoding.EncodeToString(b)
	return signing + "." + base64.RawURLEncoding.EncodeToString(s.sign(signing))
}

func (s *Simulator) sign(signing string) []byte {
	m := hmac.New(sha256.New, s.signKey)
	m.Write([]byte(signing))
	return m.Sum(nil)
}

// tokenState is what a presented bearer comes to.
type tokenState int

const (
	tokenValid tokenState = iota
	tokenMissing
	tokenInvalid
	tokenExpired
)

func (s *Simulator) checkBearer(r *http.Request) tokenState {
	tok, present, ok := httpapi.Bearer(r)
	if !present {
		return tokenMissing
	}
	if !ok {
		return tokenInvalid
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != tokenHeader {
		return tokenInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return tokenInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c tokenClaims
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return tokenInvalid
	}
	if s.now().UnixMilli() >= c.ExpMs {
		return tokenExpired
	}
	return tokenValid
}

// authorize is POST /authorize: only the x-api-key header counts; the body (none from curl,
// {"client_id":"","client_secret":""} from Payroc's Go SDK) is ignored.
func (s *Simulator) authorize(w http.ResponseWriter, r *http.Request) {
	drain(r)
	s.mu.Lock()
	s.ctl.identityCalls++
	s.mu.Unlock()
	if !s.keyMatches(r.Header.Get("x-api-key")) {
		w.Header().Set("WWW-Authenticate", `ApiKey header="x-api-key"`)
		httpapi.WriteProblem(w, httpapi.Problem("", payroc.CodeNotAuthorized, "The x-api-key header is missing or the API key is not valid"))
		return
	}
	if !acceptsJSON(r) {
		httpapi.WriteProblem(w, notAcceptable())
		return
	}
	tok := s.mintToken(s.now())
	s.mu.Lock()
	s.ctl.tokensIssued++
	s.mu.Unlock()
	secs := int64((s.cfg.TokenTTL + time.Second - 1) / time.Second)
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   secs,
		"scope":        tokenScope,
	})
}

// keyMatches compares in constant time; hashing first hides the key's length too.
func (s *Simulator) keyMatches(got string) bool {
	return httpapi.SecretEqual(got, s.cfg.APIKey)
}

// bearerProblem is the 401 for a request whose bearer is not valid, or nil.
func (s *Simulator) bearerProblem(w http.ResponseWriter, r *http.Request) *payroc.Error {
	var detail string
	switch s.checkBearer(r) {
	case tokenValid:
		return nil
	case tokenMissing:
		detail = "The Authorization header with a bearer token is missing"
	case tokenExpired:
		detail = "The bearer token has expired"
	default:
		detail = "The bearer token is not valid"
	}
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	return httpapi.Problem("", payroc.CodeNotAuthorized, detail)
}
