package server

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// The cap holds per lane across shards and under concurrency, and a lane with nothing open leaves no entry.
func TestPollCounterCapsEachLane(t *testing.T) {
	var p pollCounter
	const lanes, max = 100, 3
	var wg sync.WaitGroup
	got := make([]atomic.Int64, lanes)
	for l := range lanes {
		for range 2 * max {
			wg.Go(func() {
				if p.acquire(fmt.Sprintf("lane-%d", l), max) {
					got[l].Add(1)
				}
			})
		}
	}
	wg.Wait()
	for l := range lanes {
		require.EqualValues(t, max, got[l].Load(), "lane-%d: %d of %d tries must get a slot", l, max, 2*max)
		require.False(t, p.acquire(fmt.Sprintf("lane-%d", l), max), "lane-%d is full", l)
	}
	require.True(t, p.acquire("lane-0", -1), "no cap")
	p.release("lane-0")
	for l := range lanes {
		for range max {
			p.release(fmt.Sprintf("lane-%d", l))
		}
	}
	for i := range p.shards {
		require.Empty(t, p.shards[i].open, "shard %d keeps entries for lanes with nothing open", i)
	}
}
