package state

import (
	"context"
	"errors"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// State is the proxy's shared state: the per-device in-flight guard, which lane made which instruction,
// refund and Idempotency-Key, the per-token rate limits and the lane-token revocation list. Every entry
// expires. The proxy owns this interface; Memory (one instance, the default) and proxy/state/redis
// (several instances behind any load balancer) implement it, and proxy/state/statetest checks both the
// same way.
//
// Each call is one step of a request and, on a networked backend, one round trip: the checks a request needs
// before anything is forwarded (its token's revocation and rate, then the guard or the lookup) happen in one
// call. A call that returns an error changed nothing the caller can rely on: the proxy then answers 503
// state-unavailable and forwards nothing (fail closed).
type State interface {
	// Admit checks a lane token before a request that needs no other state (GET /lane): not revoked, and
	// within its rate (one request taken from its bucket).
	Admit(ctx context.Context, tokenID string, now time.Time) (Admission, error)
	// Reserve admits tokenID as Admit does and, when admitted, claims r.Serial's guard for a submit with
	// r.Key by r.Lane (see ReserveResult for the rules). Each reserved submit must be settled with Settle.
	// An empty tokenID skips admission, for a request already admitted (a submit retried once its device's
	// finished holder was freed): one request checks its token and takes from its rate once.
	Reserve(ctx context.Context, tokenID string, r Reservation, now time.Time) (Admission, ReserveResult, error)
	// Lookup admits tokenID and, when admitted, returns instruction id if lane made it (found false
	// otherwise). A found instruction that still holds its device keeps it held (the page is watching).
	Lookup(ctx context.Context, tokenID, id, lane string, now time.Time) (Admission, Instruction, bool, error)
	// RefundLane admits tokenID and, when admitted, says which lane refund id belongs to ("" when unknown).
	RefundLane(ctx context.Context, tokenID, id string, now time.Time) (Admission, string, error)
	// Settle ends a submit that Reserve let through: see Settlement.
	Settle(ctx context.Context, s Settlement, now time.Time) (Settled, error)
	// Observe notes a status seen for instruction id. A final status frees its device and files refundID
	// (when completed) under its lane. It returns the record, and audit true the first time (across every
	// instance) a final status is seen for it.
	Observe(ctx context.Context, id string, st payroc.Status, refundID string, now time.Time) (rec Instruction, audit bool, err error)
	// Holder returns the instruction that holds device serial's guard now (found false when the device is
	// free, or held by a submit whose instruction is not known yet). The proxy asks the gateway about it when a
	// submit meets a busy device: an instruction that ended unseen must not keep the device held.
	Holder(ctx context.Context, serial string, now time.Time) (rec Instruction, found bool, err error)
	// Release frees the device of instruction id without a known final status (a cancel answered 409 for an
	// instruction that had already failed or been canceled).
	Release(ctx context.Context, id string, now time.Time) error
	// BusyDevices counts devices with a refund in flight (a gauge): on a shared backend, among this proxy's
	// own devices (Settings.Devices).
	BusyDevices(ctx context.Context, now time.Time) (int, error)
	// Ping reports whether the store can be reached now (readiness).
	Ping(ctx context.Context) error

	// Revocations is the store's own revocation list, the one Admit, Reserve, Lookup and RefundLane check.
	Revocations
}

// Settings are the rules every backend applies alike. The proxy fills them from its Config.
type Settings struct {
	// TTL is how long instruction, refund and key ownership is remembered (Config.StateTTL).
	TTL time.Duration
	// BusyTimeout frees a guard nobody has asked about for this long, with no submit on its way.
	BusyTimeout time.Duration
	// SendTimeout bounds one submit's forwarding (Config.CallTimeout): a guard whose submit never reported
	// back (its instance died mid-call) is freed after BusyTimeout + SendTimeout of silence.
	SendTimeout time.Duration
	// Rate is requests per second per lane token and Burst the bucket's size; Rate < 0: no limit.
	Rate  float64
	Burst int
	// MaxEntries bounds each memory map (a shared backend bounds by TTL and its own memory policy).
	MaxEntries int
	// Now is the memory store's clock for its revocation list (nil: time.Now); the other calls take theirs.
	Now func() time.Time
	// Devices are the serials this proxy drives: a shared backend's BusyDevices counts the held ones among
	// them, so the gauge needs no index of its own that every submit would have to write.
	Devices []string
	// Timeout bounds each call of a networked store (0: its default, 500 ms for Redis): past it the proxy
	// answers 503 state-unavailable rather than keep a cashier waiting.
	Timeout time.Duration
}

// Admission is the verdict on a lane token for one request.
type Admission struct {
	// Revoked: the token was revoked (401 lane-token-revoked). Nothing else was checked or taken.
	Revoked bool
	// Limited: its bucket is empty (429 rate-limited); RetryAfter says when one request is free.
	Limited    bool
	RetryAfter time.Duration
}

// OK reports whether the request may go on.
func (a Admission) OK() bool { return !a.Revoked && !a.Limited }

// Reservation is one submit asking for a device.
type Reservation struct {
	Serial, Key, Lane string
}

// ReserveResult says why a submit may or may not go ahead.
type ReserveResult int

const (
	// Reserved: the device is this submit's. The same key from the same lane passes again (a replay); a
	// guard nobody asked about for BusyTimeout, with no submit on its way, is dropped first. Keys compare
	// exactly: whether Payroc folds their case is not published, so a key in another case is another key.
	Reserved ReserveResult = iota
	// DeviceBusy: another key (or lane) holds the device.
	DeviceBusy
	// KeyElsewhere: the key belongs to another lane (ownership is case-insensitive, so no lane reaches
	// another's instruction by changing a key's case).
	KeyElsewhere
)

// Settlement is how a reserved submit ended.
type Settlement struct {
	Serial, Key string
	// NothingCreated says that this submit proves it created nothing (payroc.NothingCreated): nothing was
	// sent (no bearer) or Payroc refused it (a 4xx). Its zero value, "may have created an instruction", is
	// the safe one. The device is freed only when no submit with the key may have reached it and none is
	// still on its way: a replay's refusal says nothing about an earlier attempt whose answer was lost.
	NothingCreated bool
	// Accepted, when set, is the instruction Payroc answered with: it is filed under its lane (refused, with
	// Settled.Foreign, when the id is already filed under another lane), and its Status observed as Observe
	// does.
	Accepted *Instruction
	Status   payroc.Status
	RefundID string
}

// Settled is what Settle did with an accepted instruction.
type Settled struct {
	// Foreign: the instruction id is another lane's; nothing was filed.
	Foreign bool
	// Record is the instruction as filed; Audit is true when its final status is seen for the first time.
	Record Instruction
	Audit  bool
}

// Instruction is what the proxy remembers of a refund instruction it forwarded: who made it (object-level
// scope), with which key (audit, busy guard), and for the audit line of its outcome.
type Instruction struct {
	ID, Serial, Key   string
	Lane, TokenID     string
	Amount            int64
	Currency, OrderID string
	SubmittedAt       time.Time
}

// ErrUnavailable wraps every failure to reach a shared store, for errors.Is.
var ErrUnavailable = errors.New("shared state unavailable")
