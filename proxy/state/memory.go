package state

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// Memory is the State of a single proxy instance (the default, -state memory): all bounded and
// expiring, all lost on restart (the page then replays its submit with the same key, and Payroc answers
// with the original instruction). Its calls never fail. Build it with NewMemory.
type Memory struct {
	mu           sync.Mutex
	set          Settings
	instructions *ttlMap[string, *memInstruction] // instruction id → record
	refunds      *ttlMap[string, string]          // refund id → lane
	keys         *ttlMap[string, string]          // lower-case Idempotency-Key → lane
	devices      map[string]*holder               // serial → in-flight refund
	limits       *limiters
	*MemoryRevocations
}

var _ State = (*Memory)(nil)

type memInstruction struct {
	Instruction
	finalAudited bool
}

// holder is the refund in flight on a device: the key that reserved it, and its instruction once known.
type holder struct {
	key, lane, instructionID string
	lastSeen                 time.Time
	// sending counts the submits with key being forwarded now; while any is, the device stays held (for at
	// most SendTimeout past BusyTimeout).
	sending int
	// reached is set once a submit with key may have reached the device (it was accepted, or its answer
	// never came): from then on only the instruction's end or the busy timeout frees the device.
	reached bool
}

// NewMemory builds the in-process store with set's rules (zero fields: the proxy's defaults).
func NewMemory(set Settings) *Memory {
	set = set.WithDefaults()
	return &Memory{
		set:               set,
		instructions:      newTTLMap[string, *memInstruction](set.TTL, set.MaxEntries),
		refunds:           newTTLMap[string, string](set.TTL, set.MaxEntries),
		keys:              newTTLMap[string, string](set.TTL, set.MaxEntries),
		devices:           make(map[string]*holder),
		limits:            newLimiters(set.Rate, set.Burst, set.MaxEntries),
		MemoryRevocations: NewMemoryRevocations(set.Now, set.MaxEntries),
	}
}

// The defaults of the settings the proxy's configuration shares with its state, applied by WithDefaults
// (server.Config leaves them zero and its StateSettings fills them from here).
const (
	DefaultTTL         = 24 * time.Hour
	DefaultBusyTimeout = 3 * time.Minute
	DefaultRate        = 20
	DefaultMaxEntries  = 100_000
)

// WithDefaults fills zero settings with the proxy's defaults; every backend uses it, so they cannot drift apart.
func (s Settings) WithDefaults() Settings {
	if s.TTL <= 0 {
		s.TTL = DefaultTTL
	}
	if s.BusyTimeout <= 0 {
		s.BusyTimeout = DefaultBusyTimeout
	}
	if s.SendTimeout <= 0 {
		s.SendTimeout = 30 * time.Second
	}
	if s.Rate == 0 {
		s.Rate = DefaultRate
	}
	if s.Burst <= 0 {
		s.Burst = max(int(3*s.Rate), 1)
	}
	if s.MaxEntries <= 0 {
		s.MaxEntries = DefaultMaxEntries
	}
	return s
}

// admit checks revocation, then takes one request from the token's bucket. Call with mu held.
func (s *Memory) admit(tokenID string, now time.Time) Admission {
	if tokenID == "" {
		return Admission{}
	}
	if revoked, _ := s.MemoryRevocations.Revoked(context.Background(), tokenID); revoked {
		return Admission{Revoked: true}
	}
	if ok, wait := s.limits.allow(tokenID, now); !ok {
		return Admission{Limited: true, RetryAfter: wait}
	}
	return Admission{}
}

// Admit implements State.
func (s *Memory) Admit(_ context.Context, tokenID string, now time.Time) (Admission, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admit(tokenID, now), nil
}

// Reserve implements State.
func (s *Memory) Reserve(_ context.Context, tokenID string, r Reservation, now time.Time) (Admission, ReserveResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.admit(tokenID, now); !a.OK() {
		return a, Reserved, nil
	}
	if owner, ok := s.keys.get(strings.ToLower(r.Key), now); ok && owner != r.Lane {
		return Admission{}, KeyElsewhere, nil
	}
	if h := s.devices[r.Serial]; h != nil && !s.idle(h, now) {
		if h.key != r.Key || h.lane != r.Lane {
			return Admission{}, DeviceBusy, nil
		}
		h.sending++
		h.lastSeen = now
		return Admission{}, Reserved, nil
	}
	s.devices[r.Serial] = &holder{key: r.Key, lane: r.Lane, lastSeen: now, sending: 1}
	s.keys.set(strings.ToLower(r.Key), r.Lane, now)
	return Admission{}, Reserved, nil
}

// idle reports whether h has timed out: nobody asked about it for BusyTimeout and no submit is on its way
// (or the one on its way has been silent for SendTimeout more: its instance is gone).
func (s *Memory) idle(h *holder, now time.Time) bool {
	quiet := now.Sub(h.lastSeen)
	return (h.sending == 0 && quiet >= s.set.BusyTimeout) || quiet >= s.set.BusyTimeout+s.set.SendTimeout
}

// Settle implements State.
func (s *Memory) Settle(_ context.Context, st Settlement, now time.Time) (Settled, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.guard(st.Serial, now)
	mine := h != nil && h.key == st.Key
	if mine {
		h.sending = max(h.sending-1, 0)
		h.lastSeen = now
		h.reached = h.reached || !st.NothingCreated
	}
	var rec *memInstruction
	foreign := false
	if a := st.Accepted; a != nil {
		rec = s.file(a, now)
		foreign = rec == nil
		if mine && !foreign {
			// The instruction runs on the device it was filed under: a replay answered with an instruction
			// of another device (the key's one instruction) made nothing on this one.
			h.reached = rec.Serial == st.Serial
			if h.reached {
				h.instructionID = rec.ID
			}
		}
	}
	if mine && h.sending == 0 && !h.reached {
		delete(s.devices, st.Serial)
	}
	switch {
	case st.Accepted == nil:
		return Settled{}, nil
	case foreign:
		return Settled{Foreign: true}, nil
	}
	out, audit := s.observe(rec.ID, st.Status, st.RefundID, now)
	return Settled{Record: out, Audit: audit}, nil
}

// file files accepted under its lane (nil when its id is another lane's) and returns the record: an
// existing one keeps its device, key and order, and takes the latest token. Call with mu held.
func (s *Memory) file(a *Instruction, now time.Time) *memInstruction {
	rec, ok := s.instructions.get(a.ID, now)
	switch {
	case ok && rec.Lane != a.Lane:
		return nil
	case ok:
		rec.TokenID = a.TokenID
	default:
		rec = &memInstruction{Instruction: *a}
	}
	s.instructions.set(a.ID, rec, now)
	s.keys.set(strings.ToLower(a.Key), a.Lane, now)
	return rec
}

// Lookup implements State.
func (s *Memory) Lookup(_ context.Context, tokenID, id, laneID string, now time.Time) (Admission, Instruction, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.admit(tokenID, now); !a.OK() {
		return a, Instruction{}, false, nil
	}
	rec, ok := s.instructions.get(id, now)
	if !ok || rec.Lane != laneID {
		return Admission{}, Instruction{}, false, nil
	}
	if h := s.guard(rec.Serial, now); h != nil && h.instructionID == id {
		h.lastSeen = now
	}
	return Admission{}, rec.Instruction, true, nil
}

// Observe implements State.
func (s *Memory) Observe(_ context.Context, id string, st payroc.Status, refundID string, now time.Time) (Instruction, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, audit := s.observe(id, st, refundID, now)
	return rec, audit, nil
}

// observe is Observe with mu held.
func (s *Memory) observe(id string, st payroc.Status, refundID string, now time.Time) (Instruction, bool) {
	r, ok := s.instructions.get(id, now)
	if !ok {
		return Instruction{}, false
	}
	if h := s.heldBy(r, now); h != nil {
		if st.Final() {
			delete(s.devices, r.Serial)
		} else {
			h.lastSeen = now
		}
	}
	if refundID != "" {
		s.refunds.set(refundID, r.Lane, now)
	}
	audit := false
	if st.Final() && !r.finalAudited {
		r.finalAudited = true
		audit = true
	}
	return r.Instruction, audit
}

// RefundLane implements State.
func (s *Memory) RefundLane(_ context.Context, tokenID, id string, now time.Time) (Admission, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.admit(tokenID, now); !a.OK() {
		return a, "", nil
	}
	l, _ := s.refunds.get(id, now)
	return Admission{}, l, nil
}

// BusyDevices implements State.
func (s *Memory) BusyDevices(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for serial, h := range s.devices {
		switch {
		case s.expired(h, now):
			delete(s.devices, serial)
		case !s.idle(h, now):
			n++
		}
	}
	return n, nil
}

// Holder implements State.
func (s *Memory) Holder(_ context.Context, serial string, now time.Time) (Instruction, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.guard(serial, now)
	if h == nil || h.instructionID == "" || s.idle(h, now) {
		return Instruction{}, false, nil
	}
	r, ok := s.instructions.get(h.instructionID, now)
	if !ok {
		return Instruction{}, false, nil
	}
	return r.Instruction, true, nil
}

// Release implements State.
func (s *Memory) Release(_ context.Context, id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.instructions.get(id, now); ok && s.heldBy(r, now) != nil {
		delete(s.devices, r.Serial)
	}
	return nil
}

// Ping implements State: memory is always there.
func (s *Memory) Ping(context.Context) error { return nil }

// heldBy returns the holder of r's device when it is holding it for r. Call with mu held.
func (s *Memory) heldBy(r *memInstruction, now time.Time) *holder {
	if h := s.guard(r.Serial, now); h != nil && (h.instructionID == r.ID || h.key == r.Key) {
		return h
	}
	return nil
}

// guard returns the holder of serial, unless it has expired: a guard untouched for BusyTimeout + SendTimeout
// is gone for good, as its Redis key is, and no later touch revives it. (An idle one, quiet for
// BusyTimeout with no submit on its way, is only skipped by Reserve and BusyDevices, on both backends.)
// Call with mu held.
func (s *Memory) guard(serial string, now time.Time) *holder {
	h := s.devices[serial]
	if h != nil && s.expired(h, now) {
		delete(s.devices, serial)
		return nil
	}
	return h
}

// expired reports whether h is past its life, BusyTimeout + SendTimeout after its last touch.
func (s *Memory) expired(h *holder, now time.Time) bool {
	return now.Sub(h.lastSeen) >= s.set.BusyTimeout+s.set.SendTimeout
}
