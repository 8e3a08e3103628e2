package redis_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/redistest"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
	redisstate "github.com/posrefund/cloud/proxy/state/redis"
)

// BenchmarkRefundCycle is the state calls of one P3/P7 operation on Redis, one after another as one lane
// makes them: Reserve and Settle (the submit, answered in progress), Lookup and Observe (the status GET,
// answered final). Beside the time per cycle and the client's allocations it reports what does not depend
// on the machine's load: the redis-server's CPU time per cycle (INFO cpu, user + system) and the time
// Redis spent inside the scripts (INFO commandstats), both per cycle. Use it to weigh a script change.
//
// PAYROC_BENCH_REDIS_URL runs it against a redis-server of one's own instead of a fresh one, such as one
// under valgrind's callgrind, which counts the server's instructions per cycle whatever the machine's load.
func BenchmarkRefundCycle(b *testing.B) {
	url := os.Getenv("PAYROC_BENCH_REDIS_URL")
	if url == "" {
		url = redistest.Start(b).URL()
	}
	st, rdb, err := redisstate.Open(url, "bench:", state.Settings{Rate: 100_000, Burst: 1000, Timeout: 5 * time.Second,
		Devices: []string{"1850010868"}})
	require.NoError(b, err)
	b.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	const serial, lane, tok = "1850010868", "lane-1", "tok-0123456789abcdef"
	cycle := func(n int) {
		now := time.Now()
		key := fmt.Sprintf("0b7c3f6e-2d4a-4c1b-9e8f-%012d", n)
		id := fmt.Sprintf("inst-%d", n)
		_, res, err := st.Reserve(ctx, tok, state.Reservation{Serial: serial, Key: key, Lane: lane}, now)
		require.NoError(b, err)
		require.Equal(b, state.Reserved, res)
		rec := &state.Instruction{ID: id, Serial: serial, Key: key, Lane: lane, TokenID: tok, Amount: 1000, Currency: "USD",
			OrderID: "ORDER-1001", SubmittedAt: now}
		_, err = st.Settle(ctx, state.Settlement{Serial: serial, Key: key, Accepted: rec, Status: payroc.StatusInProgress}, now)
		require.NoError(b, err)
		a, _, found, err := st.Lookup(ctx, tok, id, lane, now)
		require.NoError(b, err)
		require.True(b, found, "%+v", a)
		_, audit, err := st.Observe(ctx, id, payroc.StatusCompleted, "ref-"+strconv.Itoa(n), now)
		require.NoError(b, err)
		require.True(b, audit)
	}
	for i := range 200 { // warm up: scripts loaded, connection open
		cycle(-1 - i)
	}
	before := info(b, rdb)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		cycle(n)
	}
	after := info(b, rdb)
	d := after.Sub(before)
	b.ReportMetric(float64(d.CPU)/float64(time.Microsecond)/float64(n), "redis-cpu-µs/op")
	b.ReportMetric(float64(d.ScriptUsec)/float64(n), "script-µs/op")
	b.ReportMetric(float64(d.ScriptCalls)/float64(n), "scripts/op")
	b.StopTimer()
	for name, d := range perScript(b, rdb, st.ScriptNames(), func() {
		for i := range 500 {
			cycle(n + 1 + i)
		}
	}) {
		b.ReportMetric(d, name+"-µs")
	}
}

// perScript is Redis's mean time in each script while sample runs (SLOWLOG, every command logged).
func perScript(b *testing.B, rdb *goredis.Client, names map[string]string, sample func()) map[string]float64 {
	ctx := context.Background()
	require.NoError(b, rdb.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err())
	require.NoError(b, rdb.ConfigSet(ctx, "slowlog-max-len", "10000").Err())
	require.NoError(b, rdb.SlowLogReset(ctx).Err())
	sample()
	logged, err := rdb.SlowLogGet(ctx, -1).Result()
	require.NoError(b, err)
	require.NoError(b, rdb.ConfigSet(ctx, "slowlog-log-slower-than", "10000").Err())
	total, count := map[string]float64{}, map[string]float64{}
	for _, e := range logged {
		if len(e.Args) > 1 && names[e.Args[1]] != "" {
			total[names[e.Args[1]]] += float64(e.Duration.Microseconds())
			count[names[e.Args[1]]]++
		}
	}
	for k := range total {
		total[k] /= count[k]
	}
	return total
}

// info is the server's INFO cpu and commandstats now, read as bench's P7 reads them.
func info(b *testing.B, rdb *goredis.Client) redistest.Info {
	s, err := rdb.Info(context.Background(), "cpu", "commandstats").Result()
	require.NoError(b, err)
	out, err := redistest.ParseInfo(s)
	require.NoError(b, err)
	return out
}
