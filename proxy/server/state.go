package server

import (
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// instruction is what the proxy remembers of a refund instruction it forwarded: who made it (object-level
// scope), with which key (audit, busy guard), and how it ended.
type instruction struct {
	id, serial, key   string
	lane, tokenID     string
	amount            int64
	currency, orderID string
	status            payroc.Status
	refundID          string
	finalAudited      bool
	submittedAt       time.Time
}

// holder is the refund in flight on a device: the key that reserved it, and its instruction once known.
type holder struct {
	key, lane, instructionID string
	lastSeen                 time.Time
}

// state is the proxy's soft state: all bounded and expiring, all lost on restart (the page then replays its
// submit with the same key, and Payroc answers with the original instruction).
type state struct {
	mu           sync.Mutex
	busyTimeout  time.Duration
	instructions *ttlMap[string, *instruction] // instruction id → record
	refunds      *ttlMap[string, string]       // refund id → lane
	keys         *ttlMap[string, string]       // Idempotency-Key → lane
	devices      map[string]*holder            // serial → in-flight refund
}

func newState(ttl time.Duration, max int, busyTimeout time.Duration) *state {
	return &state{
		busyTimeout:  busyTimeout,
		instructions: newTTLMap[string, *instruction](ttl, max),
		refunds:      newTTLMap[string, string](ttl, max),
		keys:         newTTLMap[string, string](ttl, max),
		devices:      make(map[string]*holder),
	}
}

// reserveResult says why a submit may or may not go ahead.
type reserveResult int

const (
	reserved     reserveResult = iota
	deviceBusy                 // another key holds the device
	keyElsewhere               // the key belongs to another lane
)

// reserve claims serial for a submit with key by lane. The same key from the same lane passes (a replay);
// a holder nobody asked about for busyTimeout is dropped first.
func (s *state) reserve(serial, key, laneID string, now time.Time) reserveResult {
	key = strings.ToLower(key) // Payroc compares keys as UUIDs, case-insensitively
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner, ok := s.keys.get(key, now); ok && owner != laneID {
		return keyElsewhere
	}
	if h := s.devices[serial]; h != nil && now.Sub(h.lastSeen) < s.busyTimeout {
		if h.key != key || h.lane != laneID {
			return deviceBusy
		}
		h.lastSeen = now
		return reserved
	}
	s.devices[serial] = &holder{key: key, lane: laneID, lastSeen: now}
	s.keys.set(key, laneID, now)
	return reserved
}

// unreserve frees serial after a submit that certainly made no instruction (a 4xx answer).
func (s *state) unreserve(serial, key string) {
	key = strings.ToLower(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.devices[serial]; h != nil && h.key == key && h.instructionID == "" {
		delete(s.devices, serial)
	}
}

// accept records an instruction the upstream accepted for rec.lane. It returns false when the id is already
// filed under another lane (never hand one lane's instruction to another).
func (s *state) accept(rec *instruction, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.instructions.get(rec.id, now); ok {
		if old.lane != rec.lane {
			return false
		}
		old.tokenID = rec.tokenID
		s.instructions.set(rec.id, old, now)
	} else {
		s.instructions.set(rec.id, rec, now)
	}
	s.keys.set(strings.ToLower(rec.key), rec.lane, now)
	if h := s.devices[rec.serial]; h != nil && h.key == strings.ToLower(rec.key) {
		h.instructionID = rec.id
		h.lastSeen = now
	}
	return true
}

// lookup returns a copy of the instruction id if laneID made it.
func (s *state) lookup(id, laneID string, now time.Time) (instruction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.instructions.get(id, now)
	if !ok || rec.lane != laneID {
		return instruction{}, false
	}
	if h := s.devices[rec.serial]; h != nil && h.instructionID == id {
		h.lastSeen = now
	}
	return *rec, true
}

// observe notes a status seen for instruction id. On a final status it frees the device, files the refund
// under the lane, and reports (once per instruction) that the final outcome should be audited.
func (s *state) observe(id string, st payroc.Status, refundID string, now time.Time) (rec instruction, auditNow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.instructions.get(id, now)
	if !ok {
		return instruction{}, false
	}
	r.status = st
	if h := s.devices[r.serial]; h != nil && (h.instructionID == id || h.key == strings.ToLower(r.key)) {
		if st.Final() {
			delete(s.devices, r.serial)
		} else {
			h.lastSeen = now
		}
	}
	if refundID != "" {
		r.refundID = refundID
		s.refunds.set(refundID, r.lane, now)
	}
	if st.Final() && !r.finalAudited {
		r.finalAudited = true
		auditNow = true
	}
	return *r, auditNow
}

// refundLane says which lane a refund belongs to ("" when unknown).
func (s *state) refundLane(id string, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, _ := s.refunds.get(id, now)
	return l
}

// busyDevices counts devices with a refund in flight.
func (s *state) busyDevices(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for serial, h := range s.devices {
		if now.Sub(h.lastSeen) >= s.busyTimeout {
			delete(s.devices, serial)
			continue
		}
		n++
	}
	return n
}

// release frees the device of instruction id without a known final status (a 409 on cancel of an
// instruction that had already failed or been canceled).
func (s *state) release(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.instructions.m[id]
	if !ok {
		return
	}
	rec := r.Value.(*ttlEntry[string, *instruction]).v
	if h := s.devices[rec.serial]; h != nil && (h.instructionID == id || h.key == strings.ToLower(rec.key)) {
		delete(s.devices, rec.serial)
	}
}
