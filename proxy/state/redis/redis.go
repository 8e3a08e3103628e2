// Package redis keeps the proxy's shared state in Redis (or Valkey, or a managed Redis), so several
// proxy instances behind any load balancer agree on it: the per-device guard, which lane made which
// instruction, refund and Idempotency-Key, the per-token rate limits and the revoked lane tokens. It
// implements state.State; proxy/state/statetest holds the suite both backends pass.
//
// Each call is one Lua script (see scripts.go): atomic, and one round trip. Every key has a TTL. Failures
// come back wrapping state.ErrUnavailable with the reason (a timeout, a refused connection, Redis's own
// error) and never the URL, address or password.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
)

// DefaultPrefix namespaces the keys (-state-prefix).
const DefaultPrefix = "payroc:"

// DefaultTimeout bounds each call: past it the proxy answers 503 state-unavailable rather than keep a
// cashier waiting on a slow Redis.
const DefaultTimeout = 500 * time.Millisecond

// State is state.State on Redis. Build it with New or Open.
type State struct {
	rdb     goredis.UniversalClient
	prefix  string
	set     state.Settings
	timeout time.Duration
	// scripts have the prefix and the rules written in (see scripts.go).
	scripts scripts
}

var _ state.State = (*State)(nil)

// New keeps the state in rdb under prefix ("" : DefaultPrefix) with set's rules (zero fields: the proxy's
// defaults). Each call is bounded by set.Timeout (0: DefaultTimeout).
func New(rdb goredis.UniversalClient, prefix string, set state.Settings) *State {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	set = withDefaults(set)
	interval := 0.0 // the GCRA emission interval in ms (0: no rate limit)
	if set.Rate > 0 {
		interval = 1000 / set.Rate
	}
	return &State{rdb: rdb, prefix: prefix, set: set, timeout: set.Timeout, scripts: newScripts(prefix, interval, set)}
}

// Open connects to the Redis at url (redis:// or rediss://, as PROXY_REDIS_URL holds it) with timeouts
// fit for fail-closed use: no retries (a script that may have run is never run twice), short dial, read
// and write deadlines. It does not contact Redis: the first call does, and reconnects happen by themselves.
// Errors never repeat the URL (it may carry a password).
func Open(url, prefix string, set state.Settings) (*State, *goredis.Client, error) {
	if !strings.HasPrefix(url, "redis://") && !strings.HasPrefix(url, "rediss://") {
		return nil, nil, errors.New("PROXY_REDIS_URL must be a redis:// or rediss:// URL")
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, nil, errors.New("PROXY_REDIS_URL is not a valid redis:// or rediss:// URL")
	}
	set = withDefaults(set)
	opt.MaxRetries = -1
	opt.DialTimeout = max(time.Second, set.Timeout)
	opt.ReadTimeout = set.Timeout
	opt.WriteTimeout = set.Timeout
	opt.ContextTimeoutEnabled = true
	opt.PoolTimeout = set.Timeout
	opt.DisableIdentity = true // no CLIENT SETINFO round trip on each new connection
	quietOnce.Do(func() { goredis.SetLogger(quiet{}) })
	rdb := goredis.NewClient(opt)
	return New(rdb, prefix, set), rdb, nil
}

// quiet drops go-redis's own log lines: they go to stderr outside the proxy's JSON log and name the Redis
// address. Failures reach the proxy as errors instead, and it logs them without the address (unavailable).
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// withDefaults is server's defaults plus the Redis call timeout.
func withDefaults(s state.Settings) state.Settings {
	s = s.WithDefaults()
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	return s
}

// run calls script with now first, within the call timeout. Its answer is an int64, a string, a []any or
// nil.
func (s *State) run(ctx context.Context, script *goredis.Script, now time.Time, args ...any) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	all := make([]any, 0, len(args)+1)
	all = append(all, now.UnixMilli())
	all = append(all, args...)
	v, err := script.Run(ctx, s.rdb, nil, all...).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, unavailable(err)
	}
	return v, nil
}

// admission reads an admission code (see scripts.go); code is 0 when the request was admitted or v is not a
// code.
func admission(v any) (a state.Admission, code int64) {
	code, _ = v.(int64)
	switch {
	case code == codeRevoked:
		return state.Admission{Revoked: true}, code
	case code > 0:
		return state.Admission{Limited: true, RetryAfter: max(time.Duration(code)*time.Millisecond, time.Second)}, code
	}
	return state.Admission{}, code
}

// Admit implements state.State.
func (s *State) Admit(ctx context.Context, tokenID string, now time.Time) (state.Admission, error) {
	v, err := s.run(ctx, s.scripts.admit, now, tokenID)
	a, _ := admission(v)
	return a, err
}

// Reserve implements state.State.
func (s *State) Reserve(ctx context.Context, tokenID string, r state.Reservation, now time.Time) (state.Admission, state.ReserveResult, error) {
	v, err := s.run(ctx, s.scripts.reserve, now, tokenID, r.Serial, r.Key, strings.ToLower(r.Key), r.Lane)
	if err != nil {
		return state.Admission{}, state.Reserved, err
	}
	a, code := admission(v)
	switch code {
	case codeDeviceBusy:
		return state.Admission{}, state.DeviceBusy, nil
	case codeKeyElsewhere:
		return state.Admission{}, state.KeyElsewhere, nil
	}
	return a, state.Reserved, nil
}

// Settle implements state.State.
func (s *State) Settle(ctx context.Context, st state.Settlement, now time.Time) (state.Settled, error) {
	args := []any{st.Serial, st.Key, flag(!st.NothingCreated)}
	if a := st.Accepted; a != nil {
		args = append(args, 1, a.ID, a.Lane, a.TokenID, a.Amount, a.Currency, a.OrderID, a.SubmittedAt.UnixMilli(),
			flag(st.Status.Final()), st.RefundID, strings.ToLower(st.Key))
	} else {
		args = append(args, 0)
	}
	v, err := s.run(ctx, s.scripts.settle, now, args...)
	if err != nil || st.Accepted == nil {
		return state.Settled{}, err
	}
	if code, ok := v.(int64); ok && code == -1 {
		return state.Settled{Foreign: true}, nil
	}
	rec, audit, _, err := record(st.Accepted.ID, v)
	return state.Settled{Record: rec, Audit: audit}, err
}

// Lookup implements state.State.
func (s *State) Lookup(ctx context.Context, tokenID, id, laneID string, now time.Time) (state.Admission, state.Instruction, bool, error) {
	v, err := s.run(ctx, s.scripts.lookup, now, tokenID, id, laneID)
	if err != nil {
		return state.Admission{}, state.Instruction{}, false, err
	}
	if a, _ := admission(v); !a.OK() {
		return a, state.Instruction{}, false, nil
	}
	rec, _, found, err := record(id, []any{int64(0), v})
	if !found || err != nil {
		return state.Admission{}, state.Instruction{}, false, err
	}
	return state.Admission{}, rec, true, nil
}

// Observe implements state.State.
func (s *State) Observe(ctx context.Context, id string, st payroc.Status, refundID string, now time.Time) (state.Instruction, bool, error) {
	v, err := s.run(ctx, s.scripts.observe, now, id, flag(st.Final()), refundID)
	if err != nil {
		return state.Instruction{}, false, err
	}
	rec, audit, _, err := record(id, v)
	return rec, audit, err
}

// RefundLane implements state.State.
func (s *State) RefundLane(ctx context.Context, tokenID, id string, now time.Time) (state.Admission, string, error) {
	v, err := s.run(ctx, s.scripts.refund, now, tokenID, id)
	if err != nil {
		return state.Admission{}, "", err
	}
	if a, _ := admission(v); !a.OK() {
		return a, "", nil
	}
	lane, _ := v.(string)
	return state.Admission{}, lane, nil
}

// Holder implements state.State.
func (s *State) Holder(ctx context.Context, serial string, now time.Time) (state.Instruction, bool, error) {
	v, err := s.run(ctx, s.scripts.holder, now, serial)
	if err != nil {
		return state.Instruction{}, false, err
	}
	pair, _ := v.([]any)
	id, _ := elem(pair, 0).(string)
	rec, _, found, err := record(id, []any{int64(0), elem(pair, 1)})
	return rec, found, err
}

// Release implements state.State.
func (s *State) Release(ctx context.Context, id string, now time.Time) error {
	_, err := s.run(ctx, s.scripts.release, now, id)
	return err
}

// BusyDevices implements state.State: it counts the held guards among StoreSettings.Devices (this proxy's
// devices), a thousand per call (Lua unpacks at most about eight thousand values at once).
func (s *State) BusyDevices(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for chunk := range slices.Chunk(s.set.Devices, 1000) {
		args := make([]any, 0, len(chunk))
		for _, serial := range chunk {
			args = append(args, serial)
		}
		v, err := s.run(ctx, s.scripts.busy, now, args...)
		if err != nil {
			return 0, err
		}
		n, _ := v.(int64)
		total += int(n)
	}
	return total, nil
}

// Ping implements state.State.
func (s *State) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Revoke implements state.Revocations: the entry lives until the token would have expired, and a second
// revocation never shortens the first.
func (s *State) Revoke(ctx context.Context, tokenID string, until time.Time) error {
	life := time.Until(until)
	if life <= 0 {
		return nil // expired already: refused anyway
	}
	_, err := s.run(ctx, s.scripts.revoke, time.Now(), tokenID, until.UnixMilli(), ms(life+time.Second))
	return err
}

// Revoked implements state.Revocations.
func (s *State) Revoked(ctx context.Context, tokenID string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	until, err := s.rdb.Get(ctx, s.prefix+"rev:"+tokenID).Int64()
	switch {
	case errors.Is(err, goredis.Nil):
		return false, nil
	case err != nil:
		return false, unavailable(err)
	}
	return time.Now().UnixMilli() < until, nil
}

// elem is v[i], or nil past its end.
func elem(v []any, i int) any {
	if i < len(v) {
		return v[i]
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// unavailable wraps err as state.ErrUnavailable with a reason that names no address: net errors carry
// the host and port of the Redis URL, and the URL may hold a password.
func unavailable(err error) error {
	var reason string
	var opErr *net.OpError
	var rerr goredis.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		reason = "timed out"
	case errors.Is(err, context.Canceled):
		reason = "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed), errors.Is(err, goredis.ErrClosed):
		reason = "connection lost"
	case errors.As(err, &opErr):
		reason = "network error: " + opErr.Op
	case errors.As(err, &rerr):
		reason = "redis: " + firstWord(rerr.Error())
	default:
		reason = "connection failed"
	}
	return fmt.Errorf("%w: redis %s", state.ErrUnavailable, reason)
}

// firstWord keeps a Redis error's code (NOAUTH, LOADING, READONLY, OOM…) and drops its text.
func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}
