package server

import (
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// instruction is what the proxy remembers of a refund instruction it forwarded: who made it (object-level
// scope), with which key (audit, busy guard), and whether its final outcome has been audited.
type instruction struct {
	id, serial, key   string
	lane, tokenID     string
	amount            int64
	currency, orderID string
	finalAudited      bool
	submittedAt       time.Time
}

// holder is the refund in flight on a device: the key that reserved it, and its instruction once known.
type holder struct {
	key, lane, instructionID string
	lastSeen                 time.Time
	// sending counts the submits with key being forwarded now; while any is, the device stays held.
	sending int
	// reached is set once a submit with key may have reached the device (it was accepted, or its answer
	// never came): from then on only the instruction's end or the busy timeout frees the device.
	reached bool
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
// a holder nobody asked about for busyTimeout, with no submit on its way, is dropped first. The guard
// compares keys exactly: whether Payroc folds their case is not published, so a key in another case is
// another key here. Each reserved submit must be followed by sent.
func (s *state) reserve(serial, key, laneID string, now time.Time) reserveResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Ownership is case-insensitive: no lane may reach another's instruction by changing a key's case.
	if owner, ok := s.keys.get(strings.ToLower(key), now); ok && owner != laneID {
		return keyElsewhere
	}
	if h := s.devices[serial]; h != nil && !s.idle(h, now) {
		if h.key != key || h.lane != laneID {
			return deviceBusy
		}
		h.sending++
		h.lastSeen = now
		return reserved
	}
	s.devices[serial] = &holder{key: key, lane: laneID, lastSeen: now, sending: 1}
	s.keys.set(strings.ToLower(key), laneID, now)
	return reserved
}

// idle reports whether h has timed out: no submit on its way and nobody asked about it for busyTimeout.
func (s *state) idle(h *holder, now time.Time) bool {
	return h.sending == 0 && now.Sub(h.lastSeen) >= s.busyTimeout
}

// sent ends a submit that reserve let through. reached says whether it may have reached the device: false
// only when nothing was sent (no bearer) or Payroc refused it (a 4xx). The device is freed only when no
// submit with the key may have reached it and none is still on its way: a replay's refusal says nothing
// about an earlier attempt whose answer was lost.
func (s *state) sent(serial, key string, reached bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.devices[serial]
	if h == nil || h.key != key {
		return
	}
	h.sending--
	h.lastSeen = now
	h.reached = h.reached || reached
	if h.sending == 0 && !h.reached {
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
	if h := s.devices[rec.serial]; h != nil && h.key == rec.key {
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
	if h := s.heldBy(r); h != nil {
		if st.Final() {
			delete(s.devices, r.serial)
		} else {
			h.lastSeen = now
		}
	}
	if refundID != "" {
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
		if s.idle(h, now) {
			delete(s.devices, serial)
			continue
		}
		n++
	}
	return n
}

// release frees the device of instruction id without a known final status (a 409 on cancel of an
// instruction that had already failed or been canceled).
func (s *state) release(id string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.instructions.get(id, now); ok && s.heldBy(r) != nil {
		delete(s.devices, r.serial)
	}
}

// heldBy returns the holder of r's device when it is holding it for r. Call with mu held.
func (s *state) heldBy(r *instruction) *holder {
	if h := s.devices[r.serial]; h != nil && (h.instructionID == r.id || h.key == r.key) {
		return h
	}
	return nil
}
