package state

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters keeps one token bucket per lane token id (bounded, expiring), so one busy or misbehaving lane
// cannot starve the others or run up the Payroc bill.
type limiters struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	m     *ttlMap[string, *rate.Limiter]
}

func newLimiters(perSecond float64, burst, max int) *limiters {
	if perSecond < 0 {
		return nil
	}
	return &limiters{limit: rate.Limit(perSecond), burst: burst, m: newTTLMap[string, *rate.Limiter](10*time.Minute, max)}
}

// allow takes one request from id's bucket; when it is empty it says how long until one is free.
func (l *limiters) allow(id string, now time.Time) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	lim, found := l.m.get(id, now)
	if !found {
		lim = rate.NewLimiter(l.limit, l.burst)
	}
	l.m.set(id, lim, now)
	l.mu.Unlock()
	if lim.AllowN(now, 1) {
		return true, 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return false, max(d, time.Second)
}
