package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/posrefund/cloud/internal/redistest"
)

// redisMeter adds up, per side of a benchmark, what a redis-server spent while that side ran.
type redisMeter struct {
	rdb   *goredis.Client
	fatal func(error)

	mu    sync.Mutex
	sides map[string]redistest.Info
}

func (m *redisMeter) snapshot() redistest.Info {
	info, err := m.rdb.Info(context.Background(), "cpu", "commandstats").Result()
	if err == nil {
		var s redistest.Info
		if s, err = redistest.ParseInfo(info); err == nil {
			return s
		}
	}
	m.fatal(fmt.Errorf("redis INFO: %w", err))
	return redistest.Info{}
}

// measure starts measuring one side's round; the function it returns ends it.
func (m *redisMeter) measure(side string) func() {
	before := m.snapshot()
	return func() {
		d := m.snapshot().Sub(before)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.sides[side] = m.sides[side].Add(d)
	}
}

// redisPerOp is a side's Redis cost per operation: CPU, script calls, time inside the scripts.
type redisPerOp struct {
	cpu, usec time.Duration
	calls     float64
}

func (m *redisMeter) perOp(side string, ops int) redisPerOp {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sides[side]
	return redisPerOp{cpu: s.CPU / time.Duration(ops), usec: time.Duration(s.ScriptUsec) * time.Microsecond / time.Duration(ops),
		calls: float64(s.ScriptCalls) / float64(ops)}
}

// perScript logs every command to SLOWLOG while sample runs and returns Redis's mean time per call of each
// script named in names (by SHA1), e.g. "reserve 21µs, settle 30µs". SLOWLOG times a command as
// commandstats does; it is switched on only for the sample, as keeping the log costs Redis time itself.
func (m *redisMeter) perScript(sample func(), names map[string]string) string {
	ctx := context.Background()
	for _, cmd := range [][]any{{"CONFIG", "SET", "slowlog-log-slower-than", "0"}, {"CONFIG", "SET", "slowlog-max-len", "50000"},
		{"SLOWLOG", "RESET"}} {
		if err := m.rdb.Do(ctx, cmd...).Err(); err != nil {
			m.fatal(fmt.Errorf("redis %s: %w", cmd[0], err))
		}
	}
	sample()
	logged, err := m.rdb.SlowLogGet(ctx, -1).Result()
	if err != nil {
		m.fatal(fmt.Errorf("redis SLOWLOG GET: %w", err))
	}
	_ = m.rdb.Do(ctx, "CONFIG", "SET", "slowlog-log-slower-than", "10000").Err()
	return scriptTimes(logged, names)
}

// scriptTimes is each named script's mean time over the EVALSHA entries of a SLOWLOG, by name, with the
// median beside it (a script preempted on a loaded machine lengthens the mean, seldom the median).
func scriptTimes(logged []goredis.SlowLog, names map[string]string) string {
	times := map[string][]time.Duration{}
	for _, e := range logged {
		if len(e.Args) < 2 || !strings.EqualFold(e.Args[0], "evalsha") {
			continue
		}
		name := names[e.Args[1]]
		if name == "" {
			name = "other"
		}
		times[name] = append(times[name], e.Duration)
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(times)) {
		var total time.Duration
		for _, d := range times[name] {
			total += d
		}
		parts = append(parts, fmt.Sprintf("%s %s (median %s)", name, fmtDur(total/time.Duration(len(times[name]))),
			fmtDur(median(times[name]))))
	}
	if len(parts) == 0 {
		return "no script calls logged"
	}
	return strings.Join(parts, ", ")
}
