package server

import "sync"

// auditedSet remembers which instructions this instance wrote the final audit line of, so that an outcome
// it audited on its own (the store's answer was lost: see Server.noteStatus) is not audited a second time
// when the store later says "first time". Bounded: the oldest ids go first, and an outcome that old is
// at worst audited twice, never lost.
type auditedSet struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

// auditedMax bounds the set: far more refunds than one instance ends within a state call's retry window.
const auditedMax = 4096

// add records id and reports whether it was new.
func (a *auditedSet) add(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.ids[id]; ok {
		return false
	}
	if a.ids == nil {
		a.ids, a.ring = make(map[string]struct{}, auditedMax), make([]string, auditedMax)
	}
	delete(a.ids, a.ring[a.next])
	a.ring[a.next] = id
	a.next = (a.next + 1) % auditedMax
	a.ids[id] = struct{}{}
	return true
}
