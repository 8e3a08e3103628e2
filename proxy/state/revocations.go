package state

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Revocations is the list of lane tokens revoked before their expiry (DELETE /admin/lane-tokens/{tokenId}).
// The proxy asks it on every authenticated call, after the signature and expiry checks. An entry needs to
// last only until the token would have expired on its own: after that the expiry check refuses the token
// anyway, so every implementation may (and should) forget it then.
//
// The in-memory list (NewMemoryRevocations) serves one proxy; several instances behind a load balancer need
// a shared one, so a revocation takes effect on every instance.
type Revocations interface {
	// Revoke records tokenID as revoked until until. Revoking again (or an id never issued) is no error.
	Revoke(ctx context.Context, tokenID string, until time.Time) error
	// Revoked reports whether tokenID is revoked now. An error means the list could not be read: the proxy
	// then refuses the call (fails closed) rather than let a possibly revoked token through.
	Revoked(ctx context.Context, tokenID string) (bool, error)
}

// ErrRevocationsFull is returned by MemoryRevocations.Revoke when it holds its maximum of live entries. It
// never drops a live revocation to make room: a dropped one would let a revoked token back in.
var ErrRevocationsFull = errors.New("the revocation list is full")

// MemoryRevocations is a Revocations in this process's memory. Entries expire at their until time.
type MemoryRevocations struct {
	now func() time.Time
	max int

	mu      sync.Mutex
	entries map[string]time.Time // token id → until
	sweep   time.Time            // next time expired entries are swept out
}

// NewMemoryRevocations returns an empty list holding at most max live entries (max <= 0: 100000), read
// with the clock now (nil: time.Now).
func NewMemoryRevocations(now func() time.Time, max int) *MemoryRevocations {
	if now == nil {
		now = time.Now
	}
	if max <= 0 {
		max = 100_000
	}
	return &MemoryRevocations{now: now, max: max, entries: make(map[string]time.Time)}
}

// Revoke implements Revocations. An until already past records nothing.
func (m *MemoryRevocations) Revoke(_ context.Context, tokenID string, until time.Time) error {
	now := m.now()
	if !until.After(now) {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, known := m.entries[tokenID]
	if !known && len(m.entries) >= m.max {
		m.expire(now, true)
		if len(m.entries) >= m.max {
			return ErrRevocationsFull
		}
	}
	if until.After(old) {
		m.entries[tokenID] = until // a second revocation never shortens the first
	}
	m.expire(now, false)
	return nil
}

// Revoked implements Revocations.
func (m *MemoryRevocations) Revoked(_ context.Context, tokenID string) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.entries[tokenID]
	if ok && !now.Before(until) {
		delete(m.entries, tokenID)
		return false, nil
	}
	return ok, nil
}

// Len returns the number of entries held (expired ones not yet swept out included).
func (m *MemoryRevocations) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// expire drops the entries past their until time: at most once a minute, unless force. Call with mu held.
func (m *MemoryRevocations) expire(now time.Time, force bool) {
	if !force && now.Before(m.sweep) {
		return
	}
	m.sweep = now.Add(time.Minute)
	for id, until := range m.entries {
		if !now.Before(until) {
			delete(m.entries, id)
		}
	}
}
