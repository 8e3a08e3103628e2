// Package clocktest is a clock that tests move by hand, for the code that takes a clock (a Now func) so that
// its expiries can be checked without waiting.
package clocktest

import (
	"sync"
	"time"
)

// Fake is a clock that stands still until Advance moves it. Safe for concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Fake reading the wall clock's time now.
func New() *Fake { return &Fake{now: time.Now()} }

// Now is the clock's time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock d forward.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
