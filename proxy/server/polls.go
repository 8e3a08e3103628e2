package server

import "sync"

// pollCounter counts the status long-polls each lane holds open, so one lane token cannot tie up an
// unbounded number of upstream connections for a minute each. The zero value is ready to use.
type pollCounter struct {
	mu   sync.Mutex
	open map[string]int
}

// acquire takes a slot for lane, or reports false when it already holds max (max < 0: no cap).
func (p *pollCounter) acquire(lane string, max int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if max >= 0 && p.open[lane] >= max {
		return false
	}
	if p.open == nil {
		p.open = make(map[string]int)
	}
	p.open[lane]++
	return true
}

// release gives lane's slot back; a lane with none open leaves no entry behind.
func (p *pollCounter) release(lane string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open[lane] <= 1 {
		delete(p.open, lane)
		return
	}
	p.open[lane]--
}
