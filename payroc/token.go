package payroc

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// TokenSource supplies the bearer token for Authorization.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Renewer is implemented by token sources that can replace a token the server refused. After a 401 the
// client calls Renew with the refused token and the server's problem, then replays the request once with
// whatever Token returns next. Renew returns an error when no better token can be had (the 401 then stands).
type Renewer interface {
	Renew(ctx context.Context, rejected string, cause *Error) (string, error)
}

// StaticToken is a bearer the caller holds, such as the browser's lane token, with an optional renewal hook
// called when the server says the token expired. Concurrent 401s renew once.
type StaticToken struct {
	mu    sync.Mutex
	token string
	renew func(ctx context.Context) (string, error)
	sf    singleflight.Group
}

// NewStaticToken returns a source of token; renew (may be nil) gets a fresh one.
func NewStaticToken(token string, renew func(ctx context.Context) (string, error)) *StaticToken {
	return &StaticToken{token: token, renew: renew}
}

// Token returns the current token.
func (s *StaticToken) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, nil
}

// Set replaces the token.
func (s *StaticToken) Set(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// Renew asks the hook for a new token when the server refused this one (any 401: expired, or no longer
// valid because the server's signing key changed, as after a restart in simulator mode, where the saved token
// is a dead end that only the token source can end). The client asks once per call, so a token the source
// keeps handing out refused ends in the server's own error. If another call already renewed past rejected,
// that token is used. A revoked token is not renewed: the back office ended that till's sign-in on purpose,
// and only it (not a retry behind its back) gives the till a new token.
func (s *StaticToken) Renew(ctx context.Context, rejected string, cause *Error) (string, error) {
	if s.renew == nil || cause == nil || cause.Code == CodeLaneTokenRevoked {
		return "", cause
	}
	s.mu.Lock()
	cur := s.token
	s.mu.Unlock()
	if cur != rejected {
		return cur, nil
	}
	v, err, _ := s.sf.Do(rejected, func() (any, error) {
		t, err := s.renew(ctx)
		if err != nil {
			return "", err
		}
		if t == "" {
			return "", NewError(CodeTokenUnavailable, "the token renewal gave no token")
		}
		s.Set(t)
		return t, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// Token is a minted bearer with its expiry.
type Token struct {
	AccessToken string
	Expiry      time.Time
}

// Identity exchanges an API key for bearer tokens at Payroc's identity service (POST {BaseURL}/authorize
// with x-api-key). It is a mint, not a cache: wrap it in a TokenCache.
type Identity struct {
	BaseURL string // e.g. UATIdentityURL
	APIKey  string
	Doer    Doer // nil: the platform default
	Now     func() time.Time
}

// Mint fetches a new token.
func (i *Identity) Mint(ctx context.Context) (*Token, error) {
	d := i.Doer
	if d == nil {
		d = defaultDoer()
	}
	now := time.Now
	if i.Now != nil {
		now = i.Now
	}
	req := &Request{Method: "POST", URL: strings.TrimRight(i.BaseURL, "/") + "/authorize",
		Header: Header{"x-api-key": i.APIKey, "accept": "application/json"}}
	start := now()
	res, err := d.Do(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Code: CodeNetworkError, Title: TitleForCode(CodeNetworkError), Detail: "identity: " + err.Error(), Err: err}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, ParseProblem(res.StatusCode, res.Header, res.Body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(res.Body, &tr); err != nil || tr.AccessToken == "" {
		return nil, &Error{Status: res.StatusCode, Code: CodeInternalError, Title: TitleForCode(CodeInternalError),
			Detail: "identity answered without an access token"}
	}
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 3600
	}
	return &Token{AccessToken: tr.AccessToken, Expiry: start.Add(time.Duration(tr.ExpiresIn) * time.Second)}, nil
}

// TokenCache keeps a minted token and hands it to every caller. It refreshes in the background before
// expiry, so once warm no caller waits for identity; concurrent mints collapse into one; after a failed mint
// it backs off (callers get identity-unavailable at once instead of stampeding identity); and Renew drops a
// token the API refused so the next call mints afresh.
type TokenCache struct {
	// Mint gets a new token (e.g. (&Identity{…}).Mint).
	Mint func(ctx context.Context) (*Token, error)
	// RefreshBefore starts a background refresh when less than this is left (0: 5 min, at most half the
	// token's lifetime).
	RefreshBefore time.Duration
	// MinBackoff and MaxBackoff bound the wait after failed mints (0: 1s and 30s), doubling per failure.
	MinBackoff, MaxBackoff time.Duration
	// MintTimeout bounds one mint (0: 15s).
	MintTimeout time.Duration
	// OnMint, if set, is told of every mint attempt: how long it took and its error (metrics, logs).
	OnMint func(took time.Duration, err error)
	// Now is the clock (tests).
	Now func() time.Time

	mu         sync.Mutex
	tok        *Token
	minted     time.Time
	refreshing bool
	failures   int
	retryAt    time.Time
	lastErr    error
	sf         singleflight.Group
}

func (c *TokenCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// expirySlack treats a token as expired a little early, so it never reaches the API with seconds to live.
const expirySlack = 30 * time.Second

// Token returns a valid token, minting when there is none.
func (c *TokenCache) Token(ctx context.Context) (string, error) {
	now := c.now()
	c.mu.Lock()
	if t := c.tok; t != nil && now.Before(t.Expiry.Add(-expirySlack)) {
		if now.After(c.refreshAt()) && !c.refreshing && !now.Before(c.retryAt) {
			c.refreshing = true
			go c.refresh()
		}
		c.mu.Unlock()
		return t.AccessToken, nil
	}
	if now.Before(c.retryAt) {
		err := c.lastErr
		c.mu.Unlock()
		return "", c.unavailable(err)
	}
	seen := c.current()
	c.mu.Unlock()
	return c.mintShared(ctx, seen)
}

// refreshAt is when a background refresh of the current token starts. Call with mu held.
func (c *TokenCache) refreshAt() time.Time {
	life := c.tok.Expiry.Sub(c.minted)
	before := c.RefreshBefore
	if before <= 0 {
		before = 5 * time.Minute
	}
	before = min(before, life/2)
	return c.tok.Expiry.Add(-before)
}

func (c *TokenCache) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), c.mintTimeout())
	defer cancel()
	c.mu.Lock()
	seen := c.current()
	c.mu.Unlock()
	_, _ = c.mintShared(ctx, seen)
	c.mu.Lock()
	c.refreshing = false
	c.mu.Unlock()
}

func (c *TokenCache) mintTimeout() time.Duration {
	if c.MintTimeout > 0 {
		return c.MintTimeout
	}
	return 15 * time.Second
}

func (c *TokenCache) current() string {
	if c.tok == nil {
		return ""
	}
	return c.tok.AccessToken
}

// mintShared mints once for all concurrent callers; each caller still honours its own ctx. seen is the token
// the caller found wanting: if another mint has replaced it meanwhile, that token is used instead (the
// double check that keeps a late caller from minting again).
func (c *TokenCache) mintShared(ctx context.Context, seen string) (string, error) {
	ch := c.sf.DoChan("mint", func() (any, error) {
		c.mu.Lock()
		if t := c.tok; t != nil && t.AccessToken != seen && c.now().Before(t.Expiry.Add(-expirySlack)) {
			c.mu.Unlock()
			return t.AccessToken, nil
		}
		c.mu.Unlock()
		mctx, cancel := context.WithTimeout(context.Background(), c.mintTimeout())
		defer cancel()
		start := c.now()
		t, err := c.Mint(mctx)
		if c.OnMint != nil {
			c.OnMint(c.now().Sub(start), err)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.failures++
			c.lastErr = err
			c.retryAt = c.now().Add(c.backoff())
			return "", err
		}
		c.tok, c.minted, c.failures, c.lastErr, c.retryAt = t, start, 0, nil, time.Time{}
		return t.AccessToken, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", c.unavailable(r.Err)
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *TokenCache) backoff() time.Duration {
	lo, hi := c.MinBackoff, c.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	d := lo
	for i := 1; i < c.failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func (c *TokenCache) unavailable(cause error) error {
	e := NewError(CodeIdentityUnavailable, "No Payroc token could be had")
	if ce := AsError(cause); ce != nil && ce.Code != CodeInternalError {
		e.Detail += ": " + ce.Code
	}
	e.Err = cause
	return e
}

// Renew forgets rejected (if it is still the cached token) and returns a fresh token.
func (c *TokenCache) Renew(ctx context.Context, rejected string, _ *Error) (string, error) {
	c.mu.Lock()
	if c.tok != nil && c.tok.AccessToken == rejected {
		c.tok = nil
	}
	c.mu.Unlock()
	return c.Token(ctx)
}

// Warm reports whether a valid token is cached (for readiness checks that must not mint).
func (c *TokenCache) Warm() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok != nil && c.now().Before(c.tok.Expiry.Add(-expirySlack))
}
