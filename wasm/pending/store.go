package pending

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// Prefix starts the storage key of every record: "payroc.pending.<idempotencyKey>".
const Prefix = "payroc.pending."

// Refund is one refund submitted from this browser whose outcome is not yet known: the JavaScript API's
// PendingRefund. Request is the whole request as given to submit/refund (with serialNumber), so a resume
// replays exactly the same body under the same key.
type Refund struct {
	IdempotencyKey      string              `json:"idempotencyKey"`
	Request             DeviceRefundRequest `json:"request"`
	RefundInstructionID string              `json:"refundInstructionId,omitempty"`
	Status              payroc.Status       `json:"status,omitempty"`
	UpdatedAt           string              `json:"updatedAt"` // RFC 3339, UTC
	// CreatedAt is when the refund was first recorded (just before its submit): the page counts the
	// customer's wait from it across reloads and take-overs. Empty in records written before it existed.
	CreatedAt string `json:"createdAt,omitempty"`

	// filed is the key the record was read under (see lookupLocked): a write goes back there, so a record
	// filed under an older spelling is updated in place rather than doubled.
	filed string
}

// ResendWindow is how long after it was first recorded a refund may be sent again under its key (a resume
// whose instruction id was never received or is unknown, a Cancel re-attaching after a 404). Payroc does not
// publish how long it keeps idempotency keys, and once it has forgotten one a resend is a new refund on the
// reader: so past this window, or for a record that does not say when it was made, nothing is sent again, and
// the refund is reported unknown (the cashier checks the device or the back office, then forgets it). An
// hour covers every restart and outage a refund in progress can live through: a device gives up on a card
// within minutes.
const ResendWindow = time.Hour

// mayResend says whether the refund is young enough to be sent again under its key at now.
func (r *Refund) mayResend(now time.Time) bool {
	created, err := time.Parse(time.RFC3339Nano, r.CreatedAt)
	return err == nil && now.Sub(created) < ResendWindow
}

// tooOldToResend is the answer in place of a resend that mayResend refused.
func tooOldToResend() error {
	return &payroc.Error{Code: payroc.CodeNotFound, Title: payroc.TitleForCode(payroc.CodeNotFound),
		Detail: "the payment server no longer knows this refund, and it was recorded too long ago to send again " +
			"safely: check the device or the back office for its outcome, then forget it"}
}

// DeviceRefund is the recorded refund made ready to send again under its own key. The record came from this
// browser's storage, which anything on the page can write, so it is checked as anything entering the module is.
func (r *Refund) DeviceRefund() (payroc.DeviceRefund, error) {
	return r.Request.check(r.IdempotencyKey)
}

// Store keeps the records that make a refund happen exactly once across reloads:
//
//   - Begin writes the record before the first byte of the submit is sent;
//   - Observe records the instruction id the moment it arrives, and each status after it;
//   - a record is removed only once the outcome is known: a final status seen (or, for refund/resume, the
//     result read), or a failure that proves nothing was created (see DropIfNothingCreated).
//
// It is safe for concurrent calls.
type Store struct {
	s Storage
	// Now stamps the records (time.Now when nil).
	Now func() time.Time
	// Warn hears the storage failures a call carries on past (nil: none is reported).
	Warn func(error)
	mu   sync.Mutex
}

// NewStore returns a Store over s.
func NewStore(s Storage) *Store { return &Store{s: s} }

func (p *Store) stamp() string {
	return p.now().UTC().Format(time.RFC3339Nano)
}

func (p *Store) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Begin records a refund about to be submitted and reports whether the record is new. A record that exists
// already under key (a resubmit with the same key) keeps its instruction id and status: they are still the
// truth about that key. It also stands for an earlier attempt whose outcome nobody saw, so only a call whose
// Begin made the record (fresh) may later drop it when nothing was created.
func (p *Store) Begin(r payroc.DeviceRefund) (fresh bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := r.IdempotencyKey()
	rec, err := p.getLocked(key)
	if err != nil {
		return false, err
	}
	if rec == nil {
		rec, fresh = &Refund{IdempotencyKey: key, CreatedAt: p.stamp()}, true
	}
	rec.Request = DeviceRefundRequest{SerialNumber: r.SerialNumber(), RefundInstructionRequest: r.Body()}
	return fresh, p.putLocked(rec)
}

// Observe records a status of the refund under key: its instruction id and status. When removeFinal is set
// a final status ends the record (submit and watch: the final status is all they promise).
func (p *Store) Observe(key string, inst *payroc.RefundInstruction, removeFinal bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.getLocked(key)
	if err != nil || rec == nil {
		return err
	}
	if removeFinal && (inst.Status.Final() || planted == "forget-early") {
		return p.s.Remove(Prefix + rec.filed)
	}
	if inst.RefundInstructionID != "" {
		rec.RefundInstructionID = inst.RefundInstructionID
	}
	rec.Status = inst.Status
	return p.putLocked(rec)
}

// ObserveInstruction is Observe for whichever record holds the instruction id (watch and cancel know only
// the id). It returns the record's key, or "" when this browser did not submit it.
func (p *Store) ObserveInstruction(inst *payroc.RefundInstruction, removeFinal bool) (string, error) {
	key, err := p.KeyOf(inst.RefundInstructionID)
	if err != nil || key == "" {
		return "", err
	}
	return key, p.Observe(key, inst, removeFinal)
}

// KeyOf finds the key of the record of an instruction id ("" when none).
func (p *Store) KeyOf(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	recs, err := p.List()
	if err != nil {
		return "", err
	}
	for _, r := range recs {
		if r.RefundInstructionID == id {
			return r.IdempotencyKey, nil
		}
	}
	return "", nil
}

// Remove ends the record under key.
func (p *Store) Remove(key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	filed, _, ok, err := p.lookupLocked(key)
	if err != nil || !ok {
		return err
	}
	return p.s.Remove(Prefix + filed)
}

// DropIfNothingCreated removes the record of a failed submit when t, the tracker of the call, proves that nothing
// was created under key (see Tracker.NothingCreated). Only a call whose Begin made the record (fresh) may drop it:
// an older record stands for an earlier attempt nobody saw the end of. A record with an instruction id is
// never dropped: that instruction exists, whatever this attempt met. It reports whether the record went.
func (p *Store) DropIfNothingCreated(key string, fresh bool, t *Tracker) (bool, error) {
	if !fresh || (!t.NothingCreated() && planted != "drop-always") {
		return false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.getLocked(key)
	if err != nil || rec == nil || rec.RefundInstructionID != "" {
		return false, err
	}
	return true, p.s.Remove(Prefix + rec.filed)
}

// Get returns the record under key, or nil.
func (p *Store) Get(key string) (*Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.getLocked(key)
}

// List returns every record, oldest update first. Records that cannot be read (written by something else
// under the prefix) are skipped, never deleted.
func (p *Store) List() ([]Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys, err := p.s.Keys()
	if err != nil {
		return nil, err
	}
	out := []Refund{}
	for _, k := range keys {
		if !strings.HasPrefix(k, Prefix) {
			continue
		}
		rec, err := p.getLocked(strings.TrimPrefix(k, Prefix))
		if err != nil || rec == nil {
			continue
		}
		out = append(out, *rec)
	}
	slices.SortFunc(out, func(a, b Refund) int {
		return cmp.Or(cmp.Compare(a.UpdatedAt, b.UpdatedAt), cmp.Compare(a.IdempotencyKey, b.IdempotencyKey))
	})
	return out, nil
}

// getLocked returns the record of key, or nil, wherever it is filed (see lookupLocked). Every method reads
// through it, so every one finds a record filed under an older spelling.
func (p *Store) getLocked(key string) (*Refund, error) {
	filed, v, ok, err := p.lookupLocked(key)
	if err != nil || !ok {
		return nil, err
	}
	var rec Refund
	if err := json.Unmarshal([]byte(v), &rec); err != nil || rec.IdempotencyKey != filed {
		return nil, errors.New("unreadable pending record " + filed)
	}
	rec.filed = filed
	return &rec, nil
}

// lookupLocked finds the stored value of the record of key and the spelling it is filed under: key itself,
// or, for a record filed before keys were read in canonical form, the same key in another case (a page may
// have passed an upper-case key then).
func (p *Store) lookupLocked(key string) (filed, value string, ok bool, err error) {
	if v, ok, err := p.s.Get(Prefix + key); ok || err != nil {
		return key, v, ok, err
	}
	keys, err := p.s.Keys()
	if err != nil {
		return "", "", false, err
	}
	for _, k := range keys {
		if other, found := strings.CutPrefix(k, Prefix); found && other != key && strings.EqualFold(other, key) {
			v, ok, err := p.s.Get(k)
			return other, v, ok, err
		}
	}
	return key, "", false, nil
}

// putLocked writes rec back where it was read (a new record: under its key).
func (p *Store) putLocked(rec *Refund) error {
	rec.UpdatedAt = p.stamp()
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return p.s.Set(Prefix+cmp.Or(rec.filed, rec.IdempotencyKey), string(b))
}
