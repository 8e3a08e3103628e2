package state

import (
	"container/list"
	"time"
)

// ttlMap is a bounded map whose entries expire ttl after they were last set. When full, setting a new key
// evicts the oldest entry. It is not safe for concurrent use: its owner locks. Bounded and expiring because
// every entry is created by a caller (a lane) and the proxy must not grow without limit under abuse.
//
// Not hashicorp/golang-lru/v2/expirable, which has the same eviction rule: it reads the wall clock itself and
// expires from a background goroutine, while every call here takes the caller's now. The memory state runs
// on the clock its tests and the conformance suite (statetest) drive, so that both backends are checked from
// the same call history at the same instants; a map with its own clock and its own goroutine cannot be.
type ttlMap[K comparable, V any] struct {
	ttl time.Duration
	max int
	m   map[K]*list.Element
	l   list.List // front: most recently set
}

type ttlEntry[K comparable, V any] struct {
	k   K
	v   V
	exp time.Time
}

func newTTLMap[K comparable, V any](ttl time.Duration, max int) *ttlMap[K, V] {
	return &ttlMap[K, V]{ttl: ttl, max: max, m: make(map[K]*list.Element)}
}

// get returns the live value for k.
func (t *ttlMap[K, V]) get(k K, now time.Time) (V, bool) {
	var zero V
	e, ok := t.m[k]
	if !ok {
		return zero, false
	}
	en := e.Value.(*ttlEntry[K, V])
	if !now.Before(en.exp) {
		t.l.Remove(e)
		delete(t.m, k)
		return zero, false
	}
	return en.v, true
}

// set stores v under k, renewing its lifetime.
func (t *ttlMap[K, V]) set(k K, v V, now time.Time) {
	t.sweep(now)
	if e, ok := t.m[k]; ok {
		en := e.Value.(*ttlEntry[K, V])
		en.v, en.exp = v, now.Add(t.ttl)
		t.l.MoveToFront(e)
		return
	}
	for len(t.m) >= t.max && t.l.Len() > 0 {
		t.remove(t.l.Back())
	}
	t.m[k] = t.l.PushFront(&ttlEntry[K, V]{k: k, v: v, exp: now.Add(t.ttl)})
}

// sweep drops expired entries from the old end.
func (t *ttlMap[K, V]) sweep(now time.Time) {
	for e := t.l.Back(); e != nil; e = t.l.Back() {
		if now.Before(e.Value.(*ttlEntry[K, V]).exp) {
			return
		}
		t.remove(e)
	}
}

func (t *ttlMap[K, V]) remove(e *list.Element) {
	t.l.Remove(e)
	delete(t.m, e.Value.(*ttlEntry[K, V]).k)
}

func (t *ttlMap[K, V]) len() int { return len(t.m) }
