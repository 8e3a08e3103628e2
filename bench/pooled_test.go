package bench

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestComparePoolsEveryOperation: a long tail in one round of two shows in the pooled p99 (a median of the
// rounds' ratios would say 1.00x), and throughput is every operation over all the time taken.
func TestComparePoolsEveryOperation(t *testing.T) {
	flat := slices.Repeat([]time.Duration{time.Millisecond}, 100)
	tail := slices.Clone(flat)
	for i := range 10 {
		tail[i] = 50 * time.Millisecond
	}
	a, b := &tally{}, &tally{}
	a.add(flat, time.Second)
	a.add(tail, time.Second)
	b.add(flat, time.Second)
	b.add(flat, 3*time.Second)

	c := compare(a, b)
	require.InDelta(t, 50, c.P99, 1e-9, "pooled p99: 10 of 200 operations took 50 ms, so the p99 is 50 ms against 1 ms")
	require.InDelta(t, 1, c.P50, 1e-9)
	require.InDelta(t, 1, c.P99Lo, 1e-9, "round 1 had no tail")
	require.InDelta(t, 50, c.P99Hi, 1e-9, "round 2 had the tail")
	require.InDelta(t, 2, c.Thr, 1e-9, "200 ops in 2 s against 200 ops in 4 s")
	require.InDelta(t, 1, c.ThrLo, 1e-9)
	require.InDelta(t, 3, c.ThrHi, 1e-9)
	require.True(t, c.meets(1.10, 60, 1.5))
	require.False(t, c.meets(1.10, 1.25, 0.90), "a p99 of 50x misses a 1.25x target")
	require.False(t, c.meets(0.5, 60, 1.5), "a p50 of 1.00x misses a 0.5x target")
	require.True(t, c.meets(0, 60, 1.5), "p50Max 0 sets no p50 limit")
	require.Equal(t, 200, c.opsPerSide(), "2 rounds of 100 operations")
	require.Equal(t, "p50 1.00x p99 50.00x (rounds 1.00x–50.00x) throughput 2.00x (rounds 1.00x–3.00x)", c.ratios())
}
