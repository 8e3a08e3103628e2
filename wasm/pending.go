//go:build js

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/posrefund/cloud/payroc"
)

// Storage is the seam between the pending-refund records and where they live: the browser's localStorage
// in the page (so a record survives a reload), a map in tests. Keys and values are strings, as in
// localStorage. Every method may fail (quota, storage disabled).
type Storage interface {
	Get(key string) (value string, ok bool, err error)
	Set(key, value string) error
	Remove(key string) error
	Keys() ([]string, error)
}

// memoryStorage is a Storage in memory: for tests, and for a browser where localStorage is unusable (a
// record then lasts as long as the page).
type memoryStorage struct {
	mu sync.Mutex
	m  map[string]string
}

func newMemoryStorage() *memoryStorage { return &memoryStorage{m: map[string]string{}} }

func (s *memoryStorage) Get(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

func (s *memoryStorage) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

func (s *memoryStorage) Remove(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *memoryStorage) Keys() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	return keys, nil
}

// pendingPrefix starts the storage key of every record: "payroc.pending.<idempotencyKey>".
const pendingPrefix = "payroc.pending."

// PendingRefund is one refund submitted from this browser whose outcome is not yet known: the JavaScript
// API's PendingRefund. Request is the whole request as given to submit/refund (with serialNumber), so a
// resume replays exactly the same body under the same key.
type PendingRefund struct {
	IdempotencyKey      string              `json:"idempotencyKey"`
	Request             DeviceRefundRequest `json:"request"`
	RefundInstructionID string              `json:"refundInstructionId,omitempty"`
	Status              payroc.Status       `json:"status,omitempty"`
	UpdatedAt           string              `json:"updatedAt"` // RFC 3339, UTC
}

// pendingStore keeps the records that make a refund happen exactly once across reloads:
//
//   - begin writes the record before the first byte of the submit is sent;
//   - observe records the instruction id the moment it arrives, and each status after it;
//   - a record is removed only once the outcome is known: a final status seen (or, for refund/resume, the
//     result read), or a definite refusal that proves nothing was created (see refused).
//
// It is safe for concurrent calls.
type pendingStore struct {
	s   Storage
	now func() time.Time
	mu  sync.Mutex
}

func newPendingStore(s Storage) *pendingStore {
	return &pendingStore{s: s, now: time.Now}
}

func (p *pendingStore) stamp() string { return p.now().UTC().Format(time.RFC3339Nano) }

// begin records a refund about to be submitted and reports whether the record is new. A record that exists
// already under key (a resubmit with the same key) keeps its instruction id and status: they are still the
// truth about that key. It also proves an earlier attempt whose outcome nobody saw, so only a call whose
// begin made the record may later drop it as refused (see api.dropIfRefused).
func (p *pendingStore) begin(key string, req DeviceRefundRequest) (fresh bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.getLocked(key)
	if err != nil {
		return false, err
	}
	if rec == nil {
		rec, fresh = &PendingRefund{IdempotencyKey: key}, true
	}
	rec.Request = req
	return fresh, p.putLocked(rec)
}

// observe records a status of the refund under key: its instruction id and status. When removeFinal is set
// a final status ends the record (submit and watch: the final status is all they promise).
func (p *pendingStore) observe(key string, inst *payroc.RefundInstruction, removeFinal bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.getLocked(key)
	if err != nil || rec == nil {
		return err
	}
	if removeFinal && inst.Status.Final() {
		return p.s.Remove(pendingPrefix + key)
	}
	if inst.RefundInstructionID != "" {
		rec.RefundInstructionID = inst.RefundInstructionID
	}
	rec.Status = inst.Status
	return p.putLocked(rec)
}

// observeInstruction is observe for whichever record holds the instruction id (watch and cancel know only
// the id). It returns the record's key, or "" when this browser did not submit it.
func (p *pendingStore) observeInstruction(inst *payroc.RefundInstruction, removeFinal bool) (string, error) {
	key, err := p.keyOf(inst.RefundInstructionID)
	if err != nil || key == "" {
		return "", err
	}
	return key, p.observe(key, inst, removeFinal)
}

// keyOf finds the record of an instruction id.
func (p *pendingStore) keyOf(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	recs, err := p.list()
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

// remove ends the record under key.
func (p *pendingStore) remove(key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.s.Remove(pendingPrefix + key)
}

// get returns the record under key, or nil.
func (p *pendingStore) get(key string) (*PendingRefund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.getLocked(key)
}

// list returns every record, oldest update first. Records that cannot be read (written by something else
// under our prefix) are skipped, never deleted.
func (p *pendingStore) list() ([]PendingRefund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys, err := p.s.Keys()
	if err != nil {
		return nil, err
	}
	out := []PendingRefund{}
	for _, k := range keys {
		if !strings.HasPrefix(k, pendingPrefix) {
			continue
		}
		rec, err := p.getLocked(strings.TrimPrefix(k, pendingPrefix))
		if err != nil || rec == nil {
			continue
		}
		out = append(out, *rec)
	}
	slices.SortFunc(out, func(a, b PendingRefund) int {
		return cmp.Or(cmp.Compare(a.UpdatedAt, b.UpdatedAt), cmp.Compare(a.IdempotencyKey, b.IdempotencyKey))
	})
	return out, nil
}

func (p *pendingStore) getLocked(key string) (*PendingRefund, error) {
	v, ok, err := p.s.Get(pendingPrefix + key)
	if err != nil || !ok {
		return nil, err
	}
	var rec PendingRefund
	if err := json.Unmarshal([]byte(v), &rec); err != nil || rec.IdempotencyKey != key {
		return nil, errors.New("unreadable pending record " + key)
	}
	return &rec, nil
}

func (p *pendingStore) putLocked(rec *PendingRefund) error {
	rec.UpdatedAt = p.stamp()
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return p.s.Set(pendingPrefix+rec.IdempotencyKey, string(b))
}

// refused reports whether a failed submit proves that nothing was created under its key by this call, so
// its record may go: the last answer was a definite refusal (a 4xx: bad request, expired session, out of
// scope, device busy, rate limited…), and no earlier attempt of the same call was left ambiguous (no
// answer, or a 5xx that may have come after the request was passed on). A 409 other than the proxy's
// device-busy is no refusal: Payroc's idempotency-key-in-use says the key is already being processed, so
// an instruction may well exist. A submit stopped before any request left is refused too. Anything else
// leaves the record for resume.
func refused(err error, t *tracker) bool {
	if !t.sent() {
		return true
	}
	if t.wasAmbiguous() {
		return false
	}
	var e *payroc.Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 || e.Status == 408 {
		return false
	}
	return e.Status != 409 || e.Code == payroc.CodeDeviceBusy
}

// tracker watches the requests of one call on their way out through the Doer, so a failed submit can
// tell "refused" from "maybe sent".
type tracker struct {
	next payroc.Doer

	mu        sync.Mutex
	started   int
	ambiguous bool
}

func (t *tracker) Do(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
	t.mu.Lock()
	t.started++
	t.mu.Unlock()
	res, err := t.next.Do(ctx, req)
	if err != nil || res.StatusCode >= 500 {
		t.mu.Lock()
		t.ambiguous = true
		t.mu.Unlock()
	}
	return res, err
}

func (t *tracker) sent() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.started > 0
}

func (t *tracker) wasAmbiguous() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ambiguous
}
