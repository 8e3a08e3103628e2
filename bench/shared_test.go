package bench

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/proxy/server"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
)

// withRedis keeps cfg's state on a fresh password-protected redis-server (Debian's, loopback, no
// persistence) under prefix, built with cfg's rules as they stand (so call it once cfg is complete), and
// returns that server and its password. Every proxy started from cfg shares that state.
func withRedis(tb testing.TB, cfg *server.Config, prefix string) (*redistest.Server, string) {
	tb.Helper()
	password := randomHex(16)
	rs := redistest.Start(tb, redistest.WithPassword(password))
	st, rdb, err := redisstate.Open(rs.URL(), prefix, cfg.StateSettings())
	if err != nil {
		tb.Fatalf("redis state: %v", err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	cfg.State = st
	return rs, password
}

// r1Shared is what R1 across two instances adds: the Redis both share, the round-robin front, and the two
// extra faults (an instance killed, Redis restarted) with what came of them.
type r1Shared struct {
	redis    *redistest.Server
	password string
	frontL   net.Listener // the front's, taken first: its origin is every instance's -public-url
	f        *harness.Front

	mu     sync.Mutex
	events []string
}

func startR1Shared(b *testing.B, cfg *server.Config) *r1Shared {
	rs, password := withRedis(b, cfg, "r1:")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	// As in production behind a load balancer that keeps the Host: the instances answer the front's name.
	cfg.PublicURL = "http://" + l.Addr().String()
	return &r1Shared{redis: rs, password: password, frontL: l}
}

// front puts a round-robin front before the instances and returns its origin. Killing an instance closes
// its Server (open requests end at once) after the front stopped sending to it and cut its requests in
// flight (502 to the client, as from a load balancer).
func (sh *r1Shared) front(b *testing.B, pxs ...*proxyStack) string {
	b.Helper()
	origins := make([]string, len(pxs))
	for i, p := range pxs {
		origins[i] = p.URL
	}
	f, err := harness.StartFrontOn(sh.frontL, origins, func(i int) { pxs[i].Server.Close() })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(f.Close)
	sh.f = f
	return f.URL
}

// chaos kills instance 0 once a quarter of the refunds are done and restarts Redis (empty) at half.
func (sh *r1Shared) chaos(b *testing.B, progress func() float64) {
	waitFor := func(p float64) {
		for progress() < p {
			time.Sleep(10 * time.Millisecond) // watching a counter: no event to wait on
		}
	}
	waitFor(0.25)
	sh.f.Kill(0)
	sh.note("instance 0 killed at %.0f%%", 100*progress())
	waitFor(0.5)
	start := time.Now()
	sh.redis.Stop()
	time.Sleep(500 * time.Millisecond) // Redis stays away for a while: every call in that window fails closed
	if err := sh.redis.Start(); err != nil {
		sh.note("Redis did not come back: %v", err)
		return
	}
	sh.note("Redis restarted empty at %.0f%% (away %s)", 100*progress(), fmtDur(time.Since(start)))
}

func (sh *r1Shared) note(format string, a ...any) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.events = append(sh.events, fmt.Sprintf(format, a...))
}

// summary says what the extra faults did, and how many answers were 503 state-unavailable or 502.
func (sh *r1Shared) summary() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	unavailable, cut := 0, 0
	for _, h := range sh.f.Hits() {
		switch h.Status {
		case 503:
			unavailable++
		case 502:
			cut++
		}
	}
	return fmt.Sprintf("2 instances behind a round-robin front, one Redis; %s; %d answers 503 (state-unavailable or identity), %d cut by the kill; ",
		strings.Join(sh.events, ", "), unavailable, cut)
}
