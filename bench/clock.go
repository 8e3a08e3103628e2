package bench

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
)

// clock is the wall clock moved forward by an offset: P5 jumps the proxy's and the simulator's clocks (their
// Config.Now hooks) into a token's refresh window instead of waiting most of an hour. Timers (device delays,
// long-poll holds, HTTP timeouts) keep real time.
type clock struct{ off atomic.Int64 }

// Now is time.Now plus the offset.
func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// Set moves the clock to real time plus d.
func (c *clock) Set(d time.Duration) { c.off.Store(int64(d)) }

// lockedBuffer is a bytes.Buffer safe for concurrent writers (the proxy's log handler).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
