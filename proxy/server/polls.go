package server

import (
	"hash/maphash"
	"sync"
)

// pollCounter counts the status long-polls each lane holds open, so one lane token cannot tie up an
// unbounded number of upstream connections for a minute each. The zero value is ready to use.
//
// Every status GET takes and gives back a slot, so the counts are split over shards by lane, each with its
// own lock: under P3's load one lock for all lanes was the proxy's most contended (the mutex profile put
// over half of the proxy's lock waiting on it), and a lane's count needs only its own shard.
type pollCounter struct {
	shards [pollShards]pollShard
}

const pollShards = 32

type pollShard struct {
	mu   sync.Mutex
	open map[string]int
}

var pollSeed = maphash.MakeSeed()

func (p *pollCounter) shard(lane string) *pollShard {
	return &p.shards[maphash.String(pollSeed, lane)%pollShards]
}

// acquire takes a slot for lane, or reports false when it already holds max (max < 0: no cap).
func (p *pollCounter) acquire(lane string, max int) bool {
	sh := p.shard(lane)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if max >= 0 && sh.open[lane] >= max {
		return false
	}
	if sh.open == nil {
		sh.open = make(map[string]int)
	}
	sh.open[lane]++
	return true
}

// release gives lane's slot back; a lane with none open leaves no entry behind.
func (p *pollCounter) release(lane string) {
	sh := p.shard(lane)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.open[lane] <= 1 {
		delete(sh.open, lane)
		return
	}
	sh.open[lane]--
}
