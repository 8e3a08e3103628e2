// Package lane issues and verifies lane tokens: the bearer a browser POS (a "lane", one till or kiosk) shows
// the proxy instead of the Payroc API key.
//
// A lane token is opaque to its holder and worthless against Payroc. It is "pl1.<claims>.<mac>": the claims are
// base64url JSON naming the token id, the lane, the device serial numbers it may drive, the largest amount and
// the currency it may refund, and when it was issued and expires; the MAC is HMAC-SHA256 over the version and
// claims under the proxy's signing key. Several keys may verify at once (the first one signs), so keys rotate
// without logging every lane out: add the new key first, wait out the old tokens' lifetime, drop the old key.
//
// Why not a JWT library: the format is private between the proxy and itself, one algorithm, no header to
// negotiate, so none of the algorithm-confusion pitfalls can arise and the parser stays small enough to fuzz.
package lane

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// Limits of a lane token and its secrets.
const (
	// MinSecretBytes is the shortest signing key accepted: HMAC-SHA256 wants at least its output size.
	MinSecretBytes = 32
	// MaxTokenBytes bounds a token before any parsing (a token scoped to a few hundred devices fits).
	MaxTokenBytes = 32 << 10
	// MaxDevices bounds the serial numbers in one token.
	MaxDevices = 1000
	// MaxTTL is the longest lifetime Issue grants.
	MaxTTL = 7 * 24 * time.Hour
	// DefaultTTL is the lifetime when none is asked for (a shift).
	DefaultTTL = 12 * time.Hour
)

const prefix = "pl1."

// Errors of Verify. ErrExpired is only ever returned for a token whose signature is good.
var (
	ErrInvalid = errors.New("lane token invalid")
	ErrExpired = errors.New("lane token expired")
)

// Claims are what a lane token says. The ID is not secret (it appears in logs and keys the rate limit); the
// Lane is what instructions and refunds are filed under, so a renewed token for the same lane keeps access.
type Claims struct {
	ID        string   `json:"jti"`
	Lane      string   `json:"lane"`
	Devices   []string `json:"dev"`
	MaxAmount int64    `json:"max"`
	Currency  string   `json:"cur"`
	// ConfirmAbove, when set, is the amount (minor units) at or above which the page asks the cashier to
	// confirm a refund (0: every refund); unset, the proxy's own setting applies.
	ConfirmAbove *int64 `json:"cfa,omitempty"`
	IssuedAt     int64  `json:"iat"` // Unix seconds
	ExpiresAt    int64  `json:"exp"` // Unix seconds
}

// Expiry returns ExpiresAt as a time.
func (c *Claims) Expiry() time.Time { return time.Unix(c.ExpiresAt, 0).UTC() }

// HasDevice reports whether serial is in the token's scope.
func (c *Claims) HasDevice(serial string) bool { return slices.Contains(c.Devices, serial) }

// ScopeError says which part of a refund lies outside a token's scope: Field is the request member at fault
// as Payroc names it ("serialNumber", "order.currency", "order.amount"), Message what it must be, Detail one
// sentence for the problem document.
type ScopeError struct {
	Field, Message, Detail string
}

func (e *ScopeError) Error() string { return e.Field + " " + e.Message }

// CheckRefund reports the first part of a refund that this token may not ask for: a device outside its
// list, another currency, or an amount over its cap or over capAmount (the proxy's own cap; 0: none). It
// is pure: it reads only the claims and its arguments.
func (c *Claims) CheckRefund(serial string, amount int64, currency string, capAmount int64) *ScopeError {
	limit := c.MaxAmount
	if capAmount > 0 {
		limit = min(limit, capAmount)
	}
	switch {
	case !c.HasDevice(serial):
		return &ScopeError{Field: "serialNumber", Message: "is not a device of this lane", Detail: "This lane may not use device " + serial}
	case currency != c.Currency:
		return &ScopeError{Field: "order.currency", Message: "must be " + c.Currency, Detail: "This lane refunds in " + c.Currency}
	case amount > limit:
		return &ScopeError{Field: "order.amount", Message: fmt.Sprintf("must be at most %d", limit),
			Detail: fmt.Sprintf("The amount is over this lane's limit of %d", limit)}
	}
	return nil
}

// Check validates claims as Issue would sign them: a lane id, 1..MaxDevices valid serial numbers, an amount
// within 1..payroc.MaxAmount, a Payroc currency and an expiry after issue.
func (c *Claims) Check() error {
	if err := CheckLaneID(c.Lane); err != nil {
		return err
	}
	if len(c.Devices) == 0 {
		return errors.New("devices: at least one serial number is required")
	}
	if len(c.Devices) > MaxDevices {
		return fmt.Errorf("devices: at most %d serial numbers", MaxDevices)
	}
	seen := make(map[string]bool, len(c.Devices))
	for _, d := range c.Devices {
		if err := payroc.ValidateSerialNumber(d); err != nil {
			return fmt.Errorf("devices: %q is not a serial number", d)
		}
		if seen[d] {
			return fmt.Errorf("devices: %q is listed twice", d)
		}
		seen[d] = true
	}
	if c.MaxAmount < 1 || c.MaxAmount > payroc.MaxAmount {
		return fmt.Errorf("maxAmount: must be between 1 and %d minor units", int64(payroc.MaxAmount))
	}
	if !payroc.ValidCurrency(c.Currency) {
		return fmt.Errorf("currency: %q is not a currency Payroc accepts", c.Currency)
	}
	if c.ConfirmAbove != nil && (*c.ConfirmAbove < 0 || *c.ConfirmAbove > payroc.MaxAmount) {
		return fmt.Errorf("confirmAbove: must be between 0 and %d minor units", int64(payroc.MaxAmount))
	}
	if c.ExpiresAt <= c.IssuedAt {
		return errors.New("expiresAt: must be after issuedAt")
	}
	// No token lives longer than MaxTTL: a revocation that lasts MaxTTL from now then outlives any token.
	if c.ExpiresAt-c.IssuedAt > int64(MaxTTL/time.Second) {
		return fmt.Errorf("expiresAt: at most %s after issuedAt", MaxTTL)
	}
	return nil
}

// CheckTokenID accepts a token id as a client may send it back (DELETE /admin/lane-tokens/{tokenId}): 1–64
// characters of letters, digits, '.', '_' and '-' (NewID makes 16 hex digits).
func CheckTokenID(id string) error {
	if err := CheckLaneID(id); err != nil {
		return errors.New("tokenId: must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	return nil
}

// CheckLaneID accepts 1–64 characters of letters, digits, '.', '_' and '-'.
func CheckLaneID(id string) error {
	if id == "" || len(id) > 64 {
		return errors.New("lane: must be 1 to 64 characters")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return errors.New("lane: only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// NewID returns a random 16-hex-digit id, for token ids and unnamed lanes.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// ParseSecrets splits PROXY_TOKEN_SECRET: comma-separated keys, each at least MinSecretBytes long after
// trimming spaces; the first signs, all verify. The error never quotes a key.
func ParseSecrets(s string) ([][]byte, error) {
	var keys [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if len(part) < MinSecretBytes {
			return nil, fmt.Errorf("PROXY_TOKEN_SECRET: key %d is %d bytes; each key needs at least %d", i+1, len(part), MinSecretBytes)
		}
		keys = append(keys, []byte(part))
	}
	if len(keys) == 0 {
		return nil, errors.New("PROXY_TOKEN_SECRET: no key given")
	}
	return keys, nil
}

// RandomSecret returns a fresh random signing key (simulator mode without PROXY_TOKEN_SECRET: tokens then last
// only as long as the process).
func RandomSecret() []byte {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return []byte(hex.EncodeToString(b[:]))
}

// Keyring signs with its first key and verifies with any. Build it with NewKeyring; it is safe for concurrent
// use and never exposes its keys.
type Keyring struct {
	keys [][]byte
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	// verified remembers tokens that passed the signature and claims checks, by their exact text, so a lane
	// calling many times a minute costs one map lookup instead of an HMAC and a JSON decode per call. A hit
	// means these very bytes were verified before under these keys (which never change), so nothing about
	// keys is learned from its timing; expiry is checked on every call.
	mu       sync.RWMutex
	verified map[string]*Claims
	cached   int // bytes of token text held in verified
}

// Bounds of the verified-token cache: a few thousand lanes' tokens, never more than a few MiB of them.
const (
	cacheEntries  = 4096
	cacheBytes    = 4 << 20
	cacheMaxToken = 16 << 10 // larger tokens (hundreds of devices) are verified afresh each time
)

// NewKeyring copies keys (at least one, each at least MinSecretBytes).
func NewKeyring(keys [][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("lane: no signing key")
	}
	k := &Keyring{}
	for i, key := range keys {
		if len(key) < MinSecretBytes {
			return nil, fmt.Errorf("lane: signing key %d is shorter than %d bytes", i+1, MinSecretBytes)
		}
		k.keys = append(k.keys, bytes.Clone(key))
	}
	return k, nil
}

func (k *Keyring) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Spec is what a caller asks a token for; Issue fills in the rest.
type Spec struct {
	Lane      string        // "" makes a random lane id
	Devices   []string      // serial numbers
	MaxAmount int64         // minor units
	Currency  string        // "" means USD
	TTL       time.Duration // 0 means DefaultTTL; at most MaxTTL
	// ConfirmAbove, when not nil, is the token's own confirmation threshold (see Claims.ConfirmAbove).
	ConfirmAbove *int64
}

// Issue signs a new token for spec and returns it with its claims.
func (k *Keyring) Issue(spec Spec) (string, *Claims, error) {
	if spec.TTL == 0 {
		spec.TTL = DefaultTTL
	}
	if spec.TTL < time.Second || spec.TTL > MaxTTL {
		return "", nil, fmt.Errorf("ttl: must be between 1s and %s", MaxTTL)
	}
	if spec.Lane == "" {
		spec.Lane = NewID()
	}
	if spec.Currency == "" {
		spec.Currency = "USD"
	}
	now := k.now()
	c := &Claims{
		ID: NewID(), Lane: spec.Lane, Devices: append([]string(nil), spec.Devices...),
		MaxAmount: spec.MaxAmount, Currency: spec.Currency, ConfirmAbove: spec.ConfirmAbove,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(spec.TTL).Unix(),
	}
	if err := c.Check(); err != nil {
		return "", nil, err
	}
	tok, err := k.Sign(c)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

// Sign encodes and signs c as is (Issue is the usual door; Sign serves tests and tools).
func (k *Keyring) Sign(c *Claims) (string, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	payload := prefix + base64.RawURLEncoding.EncodeToString(body)
	tok := payload + "." + base64.RawURLEncoding.EncodeToString(mac(k.keys[0], payload))
	if len(tok) > MaxTokenBytes {
		return "", fmt.Errorf("lane: token would be %d bytes, over %d (too many devices)", len(tok), MaxTokenBytes)
	}
	return tok, nil
}

func mac(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// Verify checks tok's format and signature against every key, then its claims and expiry. Any failure but
// expiry is ErrInvalid (wrapped with a reason safe to show); a well-signed token past its expiry is ErrExpired
// and still returns its claims (so the caller can log which token it was).
func (k *Keyring) Verify(tok string) (*Claims, error) {
	k.mu.RLock()
	hit := k.verified[tok]
	k.mu.RUnlock()
	if hit != nil {
		return k.checkExpiry(tok, hit.clone())
	}
	c, err := k.verify(tok)
	if err != nil {
		return nil, err
	}
	k.remember(tok, c.clone())
	return k.checkExpiry(tok, c)
}

// checkExpiry returns c, or c with ErrExpired once it has run out (and forgets it: it will not come back).
func (k *Keyring) checkExpiry(tok string, c *Claims) (*Claims, error) {
	if !k.now().Before(c.Expiry()) {
		k.mu.Lock()
		if k.verified[tok] != nil {
			delete(k.verified, tok)
			k.cached -= len(tok)
		}
		k.mu.Unlock()
		return c, ErrExpired
	}
	return c, nil
}

// remember files a verified token's claims, dropping arbitrary others while the cache is over its bounds.
func (k *Keyring) remember(tok string, c *Claims) {
	if len(tok) > cacheMaxToken || !k.now().Before(c.Expiry()) {
		return // an unusually large token, or an expired one: verified afresh each time
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.verified == nil {
		k.verified = make(map[string]*Claims)
	}
	if k.verified[tok] != nil {
		return
	}
	for old := range k.verified {
		if len(k.verified) < cacheEntries && k.cached+len(tok) <= cacheBytes {
			break
		}
		delete(k.verified, old)
		k.cached -= len(old)
	}
	k.verified[tok] = c
	k.cached += len(tok)
}

// clone copies c, devices included, so no caller can change what the cache holds.
func (c *Claims) clone() *Claims {
	cp := *c
	cp.Devices = slices.Clone(c.Devices)
	return &cp
}

// verify is Verify without the cache or the expiry check: the token's format, signature and claims.
func (k *Keyring) verify(tok string) (*Claims, error) {
	if len(tok) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: too long", ErrInvalid)
	}
	if !strings.HasPrefix(tok, prefix) {
		return nil, fmt.Errorf("%w: not a lane token", ErrInvalid)
	}
	dot := strings.LastIndexByte(tok, '.')
	if dot < len(prefix) {
		return nil, fmt.Errorf("%w: malformed", ErrInvalid)
	}
	payload, sigText := tok[:dot], tok[dot+1:]
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return nil, fmt.Errorf("%w: malformed signature", ErrInvalid)
	}
	ok := false
	for _, key := range k.keys {
		// Every key is tried, so the time taken does not say which key (if any) matched.
		if hmac.Equal(sig, mac(key, payload)) {
			ok = true
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	body, err := base64.RawURLEncoding.Strict().DecodeString(payload[len(prefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: malformed claims", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var c Claims
	if err := dec.Decode(&c); err != nil || dec.More() {
		return nil, fmt.Errorf("%w: malformed claims", ErrInvalid)
	}
	if c.ID == "" {
		return nil, fmt.Errorf("%w: no token id", ErrInvalid)
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &c, nil
}
