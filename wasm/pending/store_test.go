package pending_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

const validRequest = `{"serialNumber":"1850010868","processingTerminalId":"1234001","operator":"cashier-1",` +
	`"order":{"orderId":"ORDER-1001","description":"Refund for ORDER-1001","amount":4999,"currency":"USD"}}`

// mustRefund is validRequest checked for sending under key.
func mustRefund(t *testing.T, key string) payroc.DeviceRefund {
	t.Helper()
	r, err := pending.ParseRequest(validRequest, key)
	require.NoError(t, err)
	return r
}

// steppingClock returns a clock that moves one second per reading, so records get distinct times.
func steppingClock() func() time.Time {
	var mu sync.Mutex
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
}

func TestStoreRecordLifecycle(t *testing.T) {
	s := pending.NewStore(&pending.MemoryStorage{})
	s.Now = steppingClock()
	const k1, k2 = "8e03978e-40d5-43e8-bc93-6894a57f9324", "9e03978e-40d5-43e8-bc93-6894a57f9324"
	for _, k := range []string{k1, k2} {
		fresh, err := s.Begin(mustRefund(t, k))
		require.NoError(t, err)
		require.True(t, fresh, "the first Begin of %s makes a fresh record", k)
	}
	recs, err := s.List()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, k1, recs[0].IdempotencyKey, "oldest first")
	assert.Empty(t, recs[0].RefundInstructionID)
	var given pending.DeviceRefundRequest
	require.NoError(t, json.Unmarshal([]byte(validRequest), &given))
	assert.Equal(t, given, recs[0].Request, "the request is recorded as given")

	// The id is recorded the moment it arrives; a resubmit with the same key keeps it.
	inst := &payroc.RefundInstruction{RefundInstructionID: "a37439165d134678a9100ebba3b29597", Status: payroc.StatusInProgress}
	require.NoError(t, s.Observe(k1, inst, true))
	fresh, err := s.Begin(mustRefund(t, k1))
	require.NoError(t, err)
	require.False(t, fresh, "a second Begin finds the existing record")
	r, err := s.Get(k1)
	require.NoError(t, err)
	assert.Equal(t, inst.RefundInstructionID, r.RefundInstructionID)
	assert.Equal(t, payroc.StatusInProgress, r.Status)
	key, err := s.KeyOf(inst.RefundInstructionID)
	require.NoError(t, err)
	assert.Equal(t, k1, key)

	// refund/resume keep a record at a final status until the result is read...
	done := &payroc.RefundInstruction{RefundInstructionID: inst.RefundInstructionID, Status: payroc.StatusCompleted}
	require.NoError(t, s.Observe(k1, done, false))
	r, err = s.Get(k1)
	require.NoError(t, err)
	require.NotNil(t, r, "without removeFinal the record stays at a final status")
	assert.Equal(t, payroc.StatusCompleted, r.Status)
	// ...submit/watch end it at the final status.
	key, err = s.ObserveInstruction(done, true)
	require.NoError(t, err)
	assert.Equal(t, k1, key)
	r, err = s.Get(k1)
	require.NoError(t, err)
	assert.Nil(t, r, "the record survived its final status")
	// An unknown instruction changes nothing.
	key, err = s.ObserveInstruction(done, true)
	require.NoError(t, err)
	assert.Empty(t, key)
	recs, err = s.List()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, k2, recs[0].IdempotencyKey)
}

func TestStoreSkipsForeignAndBrokenEntries(t *testing.T) {
	m := &pending.MemoryStorage{}
	require.NoError(t, m.Set("other.app", "x"))
	require.NoError(t, m.Set(pending.Prefix+"broken", "{not json"))
	recs, err := pending.NewStore(m).List()
	require.NoError(t, err)
	assert.Empty(t, recs)
	v, ok, err := m.Get(pending.Prefix + "broken")
	require.NoError(t, err)
	assert.True(t, ok, "a broken entry must never be deleted")
	assert.Equal(t, "{not json", v)
}

// Concurrent calls on many keys (run with -race) leave exactly the records whose final status was not seen.
func TestStoreConcurrentCalls(t *testing.T) {
	s := pending.NewStore(&pending.MemoryStorage{})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			key := fmt.Sprintf("8e03978e-40d5-43e8-bc93-%012d", i)
			_, err := s.Begin(mustRefund(t, key))
			assert.NoError(t, err)
			id := fmt.Sprintf("instruction-%d", i)
			assert.NoError(t, s.Observe(key, &payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusInProgress}, true))
			if i%2 == 0 {
				_, err := s.ObserveInstruction(&payroc.RefundInstruction{RefundInstructionID: id, Status: payroc.StatusCompleted}, true)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	recs, err := s.List()
	require.NoError(t, err)
	require.Len(t, recs, 20, "the records of the 20 refunds whose end was not seen")
	for _, r := range recs {
		assert.NotEmpty(t, r.RefundInstructionID)
		assert.Equal(t, payroc.StatusInProgress, r.Status)
	}
}

// failingStorage refuses every write, as a full or disabled localStorage does.
type failingStorage struct{ pending.MemoryStorage }

func (*failingStorage) Set(string, string) error { return fmt.Errorf("QuotaExceededError") }

func TestBeginFailsWhenStorageCannotWrite(t *testing.T) {
	s := pending.NewStore(&failingStorage{})
	_, err := s.Begin(mustRefund(t, "8e03978e-40d5-43e8-bc93-6894a57f9324"))
	require.Error(t, err, "Begin must report that the record was not written")
}

// A record filed under an upper-case key (before keys were read in canonical form) is found, resumed and
// forgotten by the key's canonical spelling, so it cannot keep its reader locked for good.
func TestARecordFiledInAnotherCaseIsFound(t *testing.T) {
	m := &pending.MemoryStorage{}
	const upper, lower = "8E03978E-40D5-43E8-BC93-6894A57F9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"
	require.NoError(t, m.Set(pending.Prefix+upper, `{"idempotencyKey":"`+upper+`","request":{"serialNumber":"1850010868"},"updatedAt":"2026-01-02T03:04:05Z"}`))
	s := pending.NewStore(m)
	rec, err := s.Get(lower)
	require.NoError(t, err)
	require.NotNil(t, rec, "the record is found by the canonical spelling")
	require.NoError(t, s.Remove(lower))
	recs, err := s.List()
	require.NoError(t, err)
	assert.Empty(t, recs, "and removed by it")
}

// A record filed under an upper-case key is the record of its canonical key for every method, not only Get
// and Remove: a refund() with the key begins no second record, a resume's statuses land on it, and its
// final status ends it.
func TestARecordFiledInAnotherCaseIsUpdatedInPlace(t *testing.T) {
	m := &pending.MemoryStorage{}
	const upper, lower = "8E03978E-40D5-43E8-BC93-6894A57F9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"
	require.NoError(t, m.Set(pending.Prefix+upper, `{"idempotencyKey":"`+upper+`","request":{"serialNumber":"1850010868"},"updatedAt":"2026-01-02T03:04:05Z"}`))
	s := pending.NewStore(m)
	fresh, err := s.Begin(mustRefund(t, lower))
	require.NoError(t, err)
	assert.False(t, fresh, "Begin found the record filed under the old spelling")
	inst := &payroc.RefundInstruction{RefundInstructionID: "a37439165d134678a9100ebba3b29597", Status: payroc.StatusInProgress}
	require.NoError(t, s.Observe(lower, inst, false))
	recs, err := s.List()
	require.NoError(t, err)
	require.Len(t, recs, 1, "one record for the key")
	assert.Equal(t, inst.RefundInstructionID, recs[0].RefundInstructionID)
	assert.Equal(t, payroc.StatusInProgress, recs[0].Status)

	done := &payroc.RefundInstruction{RefundInstructionID: inst.RefundInstructionID, Status: payroc.StatusCompleted}
	require.NoError(t, s.Observe(lower, done, true))
	recs, err = s.List()
	require.NoError(t, err)
	assert.Empty(t, recs, "the final status ends the record")
}

var errRead = errors.New("SecurityError: localStorage is disabled")

// brokenReads fails the next failGets reads, as a storage the browser disables mid-call does.
type brokenReads struct {
	pending.MemoryStorage
	failGets int
}

func (s *brokenReads) Get(key string) (string, bool, error) {
	if s.failGets > 0 {
		s.failGets--
		return "", false, errRead
	}
	return s.MemoryStorage.Get(key)
}

// A refund whose record cannot be read back after Begin is not sent: Run reports the storage failure (not
// an old refund), and the record this call made, with nothing sent, goes.
func TestRunReportsAFailedRead(t *testing.T) {
	storage := &brokenReads{}
	s := pending.NewStore(storage)
	r := mustRefund(t, "8e03978e-40d5-43e8-bc93-6894a57f9324")
	fresh, err := s.Begin(r)
	require.NoError(t, err)
	require.True(t, fresh)
	sent := 0
	c := &payroc.Client{BaseURL: "http://proxy.invalid/v1", Tokens: payroc.NewStaticToken("token", nil),
		Doer: payroc.DoerFunc(func(context.Context, *payroc.Request) (*payroc.Response, error) {
			sent++
			return nil, errors.New("offline")
		})}

	storage.failGets = 1
	_, err = s.Run(context.Background(), c, r, fresh, nil)
	require.ErrorIs(t, err, errRead)
	assert.Equal(t, payroc.CodeStorageUnavailable, payroc.AsError(err).Code)
	assert.Zero(t, sent, "nothing is sent without a record")
	rec, err := s.Get(r.IdempotencyKey())
	require.NoError(t, err)
	assert.Nil(t, rec, "the record this call made goes: nothing was sent")
}
