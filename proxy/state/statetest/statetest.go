// Package statetest is the one suite every state.State backend passes: the device guard's rules, lane
// ownership of instructions, refunds and keys, the per-token rate limit and the revocation list. The memory
// backend runs it in proxy/state, the Redis backend in proxy/state/redis.
package statetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
)

// Open returns two handles on one fresh, empty state with set's rules: for a shared backend, two separate
// clients (as two proxy instances have); for memory, the same store twice.
type Open func(t *testing.T, set state.Settings) (a, b state.State)

// settings are the suite's rules: short, round numbers the cases move the clock across.
var settings = state.Settings{TTL: time.Hour, BusyTimeout: time.Minute, SendTimeout: 30 * time.Second,
	Rate: -1, MaxEntries: 1000, Devices: []string{serial}}

const (
	serial  = "1850010868"
	serial2 = "1850010869"
	key1    = "0b7c3f6e-2d4a-4c1b-9e8f-1a2b3c4d5e6f"
	key2    = "7d9e1f20-3b4c-4d5e-8f60-718293a4b5c6"
)

// Run runs every case against the backend open builds.
func Run(t *testing.T, open Open) {
	cases := []struct {
		name string
		run  func(t *testing.T, a, b state.State, now time.Time)
	}{
		{"reserve: one key per device, replays pass", reserveRules},
		{"reserve: a key belongs to one lane, whatever its case", keyOwnership},
		{"settle: a refusal that made nothing frees the device", settleRefused},
		{"settle: a submit that may have reached the device keeps it", settleReached},
		{"instruction and refund belong to their lane", laneScope},
		{"final status frees the device and is audited once", finalOnce},
		{"a final answer to a submit files its refund; its replay is not audited again", settledFinal},
		{"an instruction filed under another lane is refused", foreign},
		{"busy timeout frees a silent device", busyTimeout},
		{"a watched instruction keeps its device", lookupTouches},
		{"a submit on its way holds the device until it is overdue", sendTimeout},
		{"release frees the device", release},
		{"busy devices are counted", busyCount},
		{"revoked tokens are refused everywhere", revocation},
		{"one device, many instances at once: exactly one reserve", raceReserve},
		{"a guard past its life stays gone, whatever touches it", guardExpires},
		{"an idle guard is revived by its watcher, swept or not", idleRevived},
		{"a replay answered with another device's instruction frees this device, ends that one's", otherDevice},
		{"the holder of a device is its instruction, once known", holderOf},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := open(t, settings)
			c.run(t, a, b, time.Now().Truncate(time.Millisecond))
		})
	}
	t.Run("rate: burst, then one per interval, shared", func(t *testing.T) {
		set := settings
		set.Rate, set.Burst = 2, 3
		a, b := open(t, set)
		rateLimit(t, a, b, time.Now().Truncate(time.Millisecond))
	})
}

var ctx = context.Background()

func reserve(t *testing.T, s state.State, key, laneID string, now time.Time) state.ReserveResult {
	t.Helper()
	a, res, err := s.Reserve(ctx, "tok-"+laneID, state.Reservation{Serial: serial, Key: key, Lane: laneID}, now)
	require.NoError(t, err)
	require.True(t, a.OK(), "admission %+v", a)
	return res
}

func settle(t *testing.T, s state.State, st state.Settlement, now time.Time) state.Settled {
	t.Helper()
	done, err := s.Settle(ctx, st, now)
	require.NoError(t, err)
	return done
}

// accepted is the instruction Payroc answered a submit with.
func accepted(id, key, laneID string, now time.Time) *state.Instruction {
	return &state.Instruction{ID: id, Serial: serial, Key: key, Lane: laneID, TokenID: "tok-" + laneID, Amount: 1250,
		Currency: "USD", OrderID: "ORDER-1001", SubmittedAt: now}
}

// submitted runs a whole accepted submit for laneID with key: reserve, then settle with the instruction.
func submitted(t *testing.T, s state.State, id, key, laneID string, now time.Time) {
	t.Helper()
	require.Equal(t, state.Reserved, reserve(t, s, key, laneID, now))
	done := settle(t, s, state.Settlement{Serial: serial, Key: key, Accepted: accepted(id, key, laneID, now),
		Status: payroc.StatusInProgress}, now)
	require.False(t, done.Foreign)
}

func reserveRules(t *testing.T, a, b state.State, now time.Time) {
	require.Equal(t, state.Reserved, reserve(t, a, key1, "front-1", now))
	assert.Equal(t, state.DeviceBusy, reserve(t, b, key2, "front-1", now), "another key on a held device")
	assert.Equal(t, state.DeviceBusy, reserve(t, b, key2, "front-2", now), "another lane on a held device")
	assert.Equal(t, state.Reserved, reserve(t, b, key1, "front-1", now), "the same key and lane replay")
}

func keyOwnership(t *testing.T, a, b state.State, now time.Time) {
	require.Equal(t, state.Reserved, reserve(t, a, key1, "front-1", now))
	settle(t, a, state.Settlement{Serial: serial, Key: key1, NothingCreated: true}, now) // refused: device free, key still owned
	assert.Equal(t, state.KeyElsewhere, reserve(t, b, key1, "front-2", now))
	upper := "0B7C3F6E-2D4A-4C1B-9E8F-1A2B3C4D5E6F"
	assert.Equal(t, state.KeyElsewhere, reserve(t, b, upper, "front-2", now), "the key in another case")
}

func settleRefused(t *testing.T, a, b state.State, now time.Time) {
	require.Equal(t, state.Reserved, reserve(t, a, key1, "front-1", now))
	settle(t, b, state.Settlement{Serial: serial, Key: key1, NothingCreated: true}, now)
	assert.Equal(t, state.Reserved, reserve(t, a, key2, "front-2", now), "a refused submit left the device held")
}

func settleReached(t *testing.T, a, b state.State, now time.Time) {
	require.Equal(t, state.Reserved, reserve(t, a, key1, "front-1", now))
	settle(t, a, state.Settlement{Serial: serial, Key: key1}, now) // answer lost: may be on the device
	assert.Equal(t, state.DeviceBusy, reserve(t, b, key2, "front-2", now))
	// The replay is refused: that says nothing about the first attempt, so the guard stays.
	require.Equal(t, state.Reserved, reserve(t, b, key1, "front-1", now))
	settle(t, b, state.Settlement{Serial: serial, Key: key1, NothingCreated: true}, now)
	assert.Equal(t, state.DeviceBusy, reserve(t, a, key2, "front-2", now))
}

func laneScope(t *testing.T, a, b state.State, now time.Time) {
	submitted(t, a, "inst-1", key1, "front-1", now)
	adm, rec, found, err := b.Lookup(ctx, "tok-front-1", "inst-1", "front-1", now)
	require.NoError(t, err)
	require.True(t, adm.OK())
	require.True(t, found, "the other instance finds the lane's instruction")
	assert.Equal(t, state.Instruction{ID: "inst-1", Serial: serial, Key: key1, Lane: "front-1", TokenID: "tok-front-1",
		Amount: 1250, Currency: "USD", OrderID: "ORDER-1001", SubmittedAt: now}, rec)
	_, _, found, err = b.Lookup(ctx, "tok-front-2", "inst-1", "front-2", now)
	require.NoError(t, err)
	assert.False(t, found, "another lane must not see it")
	_, _, found, err = b.Lookup(ctx, "tok-front-1", "inst-unknown", "front-1", now)
	require.NoError(t, err)
	assert.False(t, found)

	_, _, err = a.Observe(ctx, "inst-1", payroc.StatusCompleted, "ref-1", now)
	require.NoError(t, err)
	_, owner, err := b.RefundLane(ctx, "tok-front-1", "ref-1", now)
	require.NoError(t, err)
	assert.Equal(t, "front-1", owner)
	_, owner, err = b.RefundLane(ctx, "tok-front-1", "ref-unknown", now)
	require.NoError(t, err)
	assert.Empty(t, owner)
}

func finalOnce(t *testing.T, a, b state.State, now time.Time) {
	submitted(t, a, "inst-1", key1, "front-1", now)
	_, audit, err := b.Observe(ctx, "inst-1", payroc.StatusInProgress, "", now)
	require.NoError(t, err)
	assert.False(t, audit, "in progress is not final")
	assert.Equal(t, state.DeviceBusy, reserve(t, b, key2, "front-2", now))
	rec, audit, err := b.Observe(ctx, "inst-1", payroc.StatusCompleted, "ref-1", now)
	require.NoError(t, err)
	assert.True(t, audit, "the first final status is audited")
	assert.Equal(t, "ORDER-1001", rec.OrderID)
	_, audit, err = a.Observe(ctx, "inst-1", payroc.StatusCompleted, "ref-1", now)
	require.NoError(t, err)
	assert.False(t, audit, "and only once, whichever instance sees it again")
	assert.Equal(t, state.Reserved, reserve(t, a, key2, "front-2", now), "a final status frees the device")
	_, audit, err = a.Observe(ctx, "inst-unknown", payroc.StatusCompleted, "", now)
	require.NoError(t, err)
	assert.False(t, audit)

	// A submit whose answer is already final (a replay after the end) is audited by Settle.
	now = now.Add(time.Second)
	require.Equal(t, state.Reserved, reserve(t, b, key2, "front-2", now))
	done := settle(t, b, state.Settlement{Serial: serial, Key: key2, Accepted: accepted("inst-2", key2, "front-2", now),
		Status: payroc.StatusFailure}, now)
	assert.True(t, done.Audit)
	assert.Equal(t, "front-2", done.Record.Lane)
	assert.Equal(t, state.Reserved, reserve(t, a, key1, "front-1", now), "settled final: device free")
}

func settledFinal(t *testing.T, a, b state.State, now time.Time) {
	final := func(s state.State) state.Settled {
		require.Equal(t, state.Reserved, reserve(t, s, key1, "front-1", now))
		return settle(t, s, state.Settlement{Serial: serial, Key: key1, Accepted: accepted("inst-1", key1, "front-1", now),
			Status: payroc.StatusCompleted, RefundID: "ref-1"}, now)
	}
	require.True(t, final(a).Audit, "the first final answer is audited")
	_, owner, err := b.RefundLane(ctx, "tok-front-1", "ref-1", now)
	require.NoError(t, err)
	assert.Equal(t, "front-1", owner, "the refund is filed under the lane")
	done := final(b)
	assert.False(t, done.Audit, "a replay answered with the same final instruction is not audited again")
	assert.Equal(t, "ORDER-1001", done.Record.OrderID)
	assert.Equal(t, state.Reserved, reserve(t, a, key2, "front-2", now), "the device is free")
}

func foreign(t *testing.T, a, b state.State, now time.Time) {
	submitted(t, a, "inst-1", key1, "front-1", now)
	_, _, err := a.Observe(ctx, "inst-1", payroc.StatusCompleted, "", now)
	require.NoError(t, err)
	require.Equal(t, state.Reserved, reserve(t, b, key2, "front-2", now))
	done := settle(t, b, state.Settlement{Serial: serial, Key: key2, Accepted: accepted("inst-1", key2, "front-2", now),
		Status: payroc.StatusInProgress}, now)
	assert.True(t, done.Foreign)
	_, _, found, err := a.Lookup(ctx, "", "inst-1", "front-2", now)
	require.NoError(t, err)
	assert.False(t, found)
}

func busyTimeout(t *testing.T, a, b state.State, now time.Time) {
	submitted(t, a, "inst-1", key1, "front-1", now)
	assert.Equal(t, state.DeviceBusy, reserve(t, b, key2, "front-2", now.Add(59*time.Second)))
	assert.Equal(t, state.Reserved, reserve(t, b, key2, "front-2", now.Add(61*time.Second)))
}

func lookupTouches(t *testing.T, a, b state.State, now time.Time) {
	submitted(t, a, "inst-1", key1, "front-1", now)
	_, _, found, err := b.Lookup(ctx, "", "inst-1", "front-1", now.Add(50*time.Second))
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, state.DeviceBusy, reserve(t, a, key2, "front-2", now.Add(100*time.Second)), "watched 50 s ago")
	assert.Equal(t, state.Reserved, reserve(t, a, key2, "front-2", now.Add(111*time.Second)))
}

func sendTimeout(t *testing.T, a, b state.State, now time.Time) {
	require.Equal(t, state.Reserved, reserve(t, a, key1, "front-1", now)) // never settled: its instance died
	assert.Equal(t, state.DeviceBusy, reserve(t, b, key2, "front-2", now.Add(61*time.Second)), "a submit on its way")
	assert.Equal(t, state.Reserved, reserve(t, b, key2, "front-2", now.Add(91*time.Second)), "overdue by the send timeout")
}

func release(t *testing.T, a, b state.State, now time.Time) {
	submitted(t, a, "inst-1", key1, "front-1", now)
	require.NoError(t, b.Release(ctx, "inst-1", now))
	assert.Equal(t, state.Reserved, reserve(t, a, key2, "front-2", now))
	require.NoError(t, b.Release(ctx, "inst-unknown", now))
}

func busyCount(t *testing.T, a, b state.State, now time.Time) {
	n, err := b.BusyDevices(ctx, now)
	require.NoError(t, err)
	assert.Zero(t, n)
	submitted(t, a, "inst-1", key1, "front-1", now)
	n, err = b.BusyDevices(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = b.BusyDevices(ctx, now.Add(61*time.Second))
	require.NoError(t, err)
	assert.Zero(t, n, "a guard past its busy timeout is not counted")
	_, _, err = a.Observe(ctx, "inst-1", payroc.StatusCanceled, "", now)
	require.NoError(t, err)
	n, err = b.BusyDevices(ctx, now)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func revocation(t *testing.T, a, b state.State, now time.Time) {
	require.NoError(t, a.Revoke(ctx, "tok-front-1", time.Now().Add(time.Hour)))
	require.NoError(t, a.Revoke(ctx, "tok-old", time.Now().Add(-time.Second)))
	require.NoError(t, b.Revoke(ctx, "tok-front-1", time.Now().Add(time.Minute)), "revoked again, for less time")
	revoked, err := b.Revoked(ctx, "tok-front-1")
	require.NoError(t, err)
	assert.True(t, revoked)
	revoked, err = b.Revoked(ctx, "tok-old")
	require.NoError(t, err)
	assert.False(t, revoked, "a token past its expiry needs no entry")
	revoked, err = b.Revoked(ctx, "tok-front-2")
	require.NoError(t, err)
	assert.False(t, revoked)

	adm, err := b.Admit(ctx, "tok-front-1", now)
	require.NoError(t, err)
	assert.True(t, adm.Revoked)
	adm, _, err = b.Reserve(ctx, "tok-front-1", state.Reservation{Serial: serial, Key: key1, Lane: "front-1"}, now)
	require.NoError(t, err)
	assert.True(t, adm.Revoked, "no reserve for a revoked token")
	adm, _, _, err = b.Lookup(ctx, "tok-front-1", "inst-1", "front-1", now)
	require.NoError(t, err)
	assert.True(t, adm.Revoked)
	adm, _, err = b.RefundLane(ctx, "tok-front-1", "ref-1", now)
	require.NoError(t, err)
	assert.True(t, adm.Revoked)
	assert.Equal(t, state.Reserved, reserve(t, b, key1, "front-2", now), "the revoked token held nothing")
	adm, err = b.Admit(ctx, "tok-front-2", now)
	require.NoError(t, err)
	assert.True(t, adm.OK())
}

func raceReserve(t *testing.T, a, b state.State, now time.Time) {
	const n = 16
	var wg sync.WaitGroup
	results := make([]state.ReserveResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s := a
			if i%2 == 1 {
				s = b
			}
			key := fmt.Sprintf("%08x-2d4a-4c1b-9e8f-1a2b3c4d5e6f", i)
			_, results[i], errs[i] = s.Reserve(ctx, "", state.Reservation{Serial: serial, Key: key, Lane: fmt.Sprintf("lane-%d", i)}, now)
		})
	}
	wg.Wait()
	won := 0
	for i := range n {
		require.NoError(t, errs[i])
		if results[i] == state.Reserved {
			won++
		}
	}
	assert.Equal(t, 1, won, "exactly one of %d concurrent submits may hold the device", n)
}

func rateLimit(t *testing.T, a, b state.State, now time.Time) {
	for i := range 3 {
		s := a
		if i == 1 {
			s = b
		}
		adm, err := s.Admit(ctx, "tok-1", now)
		require.NoError(t, err)
		require.True(t, adm.OK(), "request %d is within the burst of 3", i+1)
	}
	adm, err := b.Admit(ctx, "tok-1", now)
	require.NoError(t, err)
	assert.True(t, adm.Limited, "the 4th at once is over the burst, whichever instance it reaches")
	assert.GreaterOrEqual(t, adm.RetryAfter, time.Second, "Retry-After is whole seconds, at least 1")
	adm, err = a.Admit(ctx, "tok-2", now)
	require.NoError(t, err)
	assert.True(t, adm.OK(), "another token has its own bucket")
	adm, err = a.Admit(ctx, "tok-1", now.Add(500*time.Millisecond))
	require.NoError(t, err)
	assert.True(t, adm.OK(), "one request frees up every 1/rate (500 ms)")
	adm, err = b.Admit(ctx, "tok-1", now.Add(500*time.Millisecond))
	require.NoError(t, err)
	assert.True(t, adm.Limited)
}

func reserveOn(t *testing.T, s state.State, dev, key, laneID string, now time.Time) state.ReserveResult {
	t.Helper()
	a, res, err := s.Reserve(ctx, "tok-"+laneID, state.Reservation{Serial: dev, Key: key, Lane: laneID}, now)
	require.NoError(t, err)
	require.True(t, a.OK(), "admission %+v", a)
	return res
}

// guardExpires: past BusyTimeout + SendTimeout a guard is gone (its Redis key has expired): a watcher, a
// status or a cancel arriving after that must not bring it back.
func guardExpires(t *testing.T, a, b state.State, now time.Time) {
	for name, touch := range map[string]func(at time.Time){
		"lookup": func(at time.Time) {
			_, _, found, err := b.Lookup(ctx, "", "inst-1", "front-1", at)
			require.NoError(t, err)
			require.True(t, found, "the instruction outlives its guard")
		},
		"status": func(at time.Time) {
			_, _, err := b.Observe(ctx, "inst-1", payroc.StatusInProgress, "", at)
			require.NoError(t, err)
		},
		"settle": func(at time.Time) {
			settle(t, b, state.Settlement{Serial: serial, Key: key1}, at)
		},
	} {
		now = now.Add(time.Hour / 10)
		submitted(t, a, "inst-1", key1, "front-1", now)
		late := now.Add(91 * time.Second)
		touch(late)
		assert.Equal(t, state.Reserved, reserve(t, a, key2, "front-2", late), "%s revived an expired guard", name)
		_, _, err := a.Observe(ctx, "inst-2", payroc.StatusCanceled, "", late) // unknown: changes nothing
		require.NoError(t, err)
		require.NoError(t, a.Release(ctx, "inst-1", late))
		settle(t, a, state.Settlement{Serial: serial, Key: key2, NothingCreated: true}, late) // frees it for the next round
	}
}

// idleRevived: a guard quiet for BusyTimeout with no submit on its way is skipped by Reserve and not counted,
// but it is still there: its watcher coming back keeps it, whether or not the gauge counted devices between.
func idleRevived(t *testing.T, a, b state.State, now time.Time) {
	for _, sweep := range []bool{false, true} {
		now = now.Add(time.Hour / 10)
		submitted(t, a, "inst-1", key1, "front-1", now)
		if sweep {
			n, err := b.BusyDevices(ctx, now.Add(61*time.Second))
			require.NoError(t, err)
			require.Zero(t, n, "an idle guard is not counted")
		}
		_, _, found, err := b.Lookup(ctx, "", "inst-1", "front-1", now.Add(62*time.Second))
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, state.DeviceBusy, reserve(t, a, key2, "front-2", now.Add(63*time.Second)), "swept %v", sweep)
		_, _, err = a.Observe(ctx, "inst-1", payroc.StatusCanceled, "", now.Add(63*time.Second))
		require.NoError(t, err)
	}
}

// otherDevice: a replay of key1 sent to another device is answered with key1's one instruction, which runs on
// the first device. Nothing of key1 runs on the second device, so its guard goes; the first device's guard
// follows the instruction's status, as Observe's would.
func otherDevice(t *testing.T, a, b state.State, now time.Time) {
	for _, st := range []payroc.Status{payroc.StatusInProgress, payroc.StatusCompleted} {
		now = now.Add(time.Hour / 10)
		submitted(t, a, "inst-1", key1, "front-1", now)
		require.Equal(t, state.Reserved, reserveOn(t, b, serial2, key1, "front-1", now))
		wrong := accepted("inst-1", key1, "front-1", now)
		wrong.Serial = serial2
		done := settle(t, b, state.Settlement{Serial: serial2, Key: key1, Accepted: wrong, Status: st}, now)
		require.False(t, done.Foreign)
		assert.Equal(t, serial, done.Record.Serial, "the instruction stays filed under its device")
		assert.Equal(t, state.Reserved, reserveOn(t, a, serial2, key2, "front-2", now), "%s: the second device is free", st)
		settle(t, a, state.Settlement{Serial: serial2, Key: key2, NothingCreated: true}, now)
		want := state.DeviceBusy
		if st.Final() {
			want = state.Reserved
		}
		assert.Equal(t, want, reserveOn(t, a, serial, key2, "front-2", now), "%s: the first device", st)
		settle(t, a, state.Settlement{Serial: serial, Key: key2, NothingCreated: true}, now)
		_, _, err := a.Observe(ctx, "inst-1", payroc.StatusCanceled, "", now)
		require.NoError(t, err)
	}
}

func holderOf(t *testing.T, a, b state.State, now time.Time) {
	held := func(at time.Time) (state.Instruction, bool) {
		t.Helper()
		rec, found, err := b.Holder(ctx, serial, at)
		require.NoError(t, err)
		return rec, found
	}
	_, found := held(now)
	assert.False(t, found, "a free device")
	require.Equal(t, state.Reserved, reserve(t, a, key1, "front-1", now))
	_, found = held(now)
	assert.False(t, found, "a submit on its way: no instruction yet")
	settle(t, a, state.Settlement{Serial: serial, Key: key1, Accepted: accepted("inst-1", key1, "front-1", now),
		Status: payroc.StatusInProgress}, now)
	rec, found := held(now)
	require.True(t, found)
	assert.Equal(t, "inst-1", rec.ID)
	assert.Equal(t, "front-1", rec.Lane)
	_, found = held(now.Add(61 * time.Second))
	assert.False(t, found, "an idle guard holds nothing")
	_, _, err := a.Observe(ctx, "inst-1", payroc.StatusCompleted, "", now)
	require.NoError(t, err)
	_, found = held(now)
	assert.False(t, found, "a final status freed it")
}
