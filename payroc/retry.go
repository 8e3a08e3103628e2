package payroc

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how patiently a call is repeated after a network error, 408, 429 or 5xx.
// The zero value is DefaultRetry's numbers; tests and the fault-injection harness compress the delays.
type RetryPolicy struct {
	// MaxAttempts is the total number of tries of one call (0: 4). 1 disables retries.
	MaxAttempts int
	// BaseDelay is the first backoff (0: 250ms); each retry doubles it up to MaxDelay (0: 8s).
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter caps how long a server's Retry-After is honoured (0: 60s).
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) attempts() int {
	if p.MaxAttempts <= 0 {
		return 4
	}
	return p.MaxAttempts
}

// Backoff returns the delay before retry number n (1-based): capped exponential with jitter in [d/2, d], so
// many clients that failed together do not come back together; at least retryAfter (up to MaxRetryAfter).
func (p RetryPolicy) Backoff(n int, retryAfter time.Duration) time.Duration {
	base, ceiling := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if ceiling <= 0 {
		ceiling = 8 * time.Second
	}
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	d = d/2 + rand.N(d/2+1)
	if retryAfter > 0 {
		capRA := p.MaxRetryAfter
		if capRA <= 0 {
			capRA = 60 * time.Second
		}
		d = max(d, min(retryAfter, capRA))
	}
	return d
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
