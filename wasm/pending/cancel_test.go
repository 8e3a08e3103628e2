//go:build !js

package pending_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
	"github.com/posrefund/cloud/wasm/pending"
)

const (
	cancelAPIKey = "sim-key-7d1e5c0b9a3f4e21a8c6"
	cancelSecret = "lane-secret-0123456789abcdef0123456789abcdef"
)

// proxyRig is the real proxy (memory state) in front of the real simulator, restartable behind one URL as a
// redeploy is behind its load balancer.
type proxyRig struct {
	sim    *sim.Simulator
	cfg    server.Config
	cur    atomic.Pointer[server.Server]
	client *payroc.Client
}

func newProxyRig(t *testing.T) *proxyRig {
	t.Helper()
	r := &proxyRig{sim: sim.New(sim.Config{APIKey: cancelAPIKey, Delay: 20 * time.Millisecond, Hold: 300 * time.Millisecond,
		Timeout: 10 * time.Second})}
	simSrv := httptest.NewServer(r.sim)
	r.cfg = server.Config{APIKey: cancelAPIKey, Simulate: true, TokenSecrets: [][]byte{[]byte(cancelSecret)}, WebDir: t.TempDir(),
		APIURL: simSrv.URL + "/v1", IdentityURL: simSrv.URL, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	for _, d := range r.sim.Devices() {
		r.cfg.Devices = append(r.cfg.Devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID})
	}
	r.restart(t)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.cur.Load().ServeHTTP(w, req) }))
	keys, err := lane.NewKeyring([][]byte{[]byte(cancelSecret)})
	require.NoError(t, err)
	tok, _, err := keys.Issue(lane.Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 100000, TTL: time.Hour})
	require.NoError(t, err)
	r.client = &payroc.Client{BaseURL: proxy.URL + "/v1", Doer: payroc.HTTPDoer{Client: proxy.Client()},
		Tokens: payroc.NewStaticToken(tok, nil)}
	t.Cleanup(func() {
		proxy.Close()
		r.cur.Load().Close()
		r.sim.Close()
		simSrv.Close()
	})
	return r
}

// restart replaces the proxy with a fresh one: its memory state (which lane made which instruction) is gone.
func (r *proxyRig) restart(t *testing.T) {
	t.Helper()
	p, err := server.New(r.cfg)
	require.NoError(t, err)
	if old := r.cur.Swap(p); old != nil {
		old.Close()
	}
}

// waitingRefund records and submits, as submit() does, a refund under a new key that waits on the reader
// until canceled (amount …03: no card is presented); it returns the refund and its instruction.
func (r *proxyRig) waitingRefund(t *testing.T, store *pending.Store) (payroc.DeviceRefund, *payroc.RefundInstruction) {
	t.Helper()
	req := waitingRequest(t)
	_, err := store.Begin(req)
	require.NoError(t, err)
	inst, err := r.client.Submit(context.Background(), req)
	require.NoError(t, err)
	require.NoError(t, store.Observe(req.IdempotencyKey(), inst, true))
	return req, inst
}

// waitingRequest is a refund under a new key that would wait on the reader until canceled.
func waitingRequest(t *testing.T) payroc.DeviceRefund {
	t.Helper()
	r, err := pending.ParseRequest(strings.Replace(validRequest, `"amount":4999`, `"amount":1003`, 1), payroc.NewIdempotencyKey())
	require.NoError(t, err)
	return r
}

// A refund waits for the card; the proxy restarts; Cancel is pressed. The proxy no longer knows the
// instruction (404), so the cancel re-attaches: the recorded submit is replayed with its key, Payroc answers
// with the same instruction, and that is canceled. Too late (the refund ended meanwhile), the replay's final
// status is the answer. Either way no second instruction is made and the record ends.
func TestCancelReattachesAfterAProxyRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  payroc.Status // what the device does before Cancel is pressed ("" nothing)
		want payroc.Status
	}{
		{"in time", "", payroc.StatusCanceled},
		{"too late", payroc.StatusCompleted, payroc.StatusCompleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newProxyRig(t)
			ctx := context.Background()
			store := pending.NewStore(&pending.MemoryStorage{})
			r, inst := rig.waitingRefund(t, store)
			key := r.IdempotencyKey()
			if tc.end != "" {
				require.NoError(t, rig.sim.Finish(inst.RefundInstructionID, tc.end))
			}

			rig.restart(t)
			_, err := rig.client.Cancel(ctx, inst.RefundInstructionID)
			require.ErrorIs(t, err, payroc.ErrNotFound, "the restarted proxy does not know the instruction: a bare cancel is lost")

			got, err := store.Cancel(ctx, rig.client, inst.RefundInstructionID)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Status)
			assert.Equal(t, inst.RefundInstructionID, got.RefundInstructionID)
			assert.Equal(t, key, got.IdempotencyKey)
			assert.EqualValues(t, 1, rig.sim.InstructionsFor(key), "the re-attach made a second instruction")
			rec, err := store.Get(key)
			require.NoError(t, err)
			assert.Nil(t, rec, "the final status ends the record")
		})
	}
}

// A cancel for an instruction this browser has no record of cannot re-attach: the 404 stands.
func TestCancelWithoutRecordKeepsTheNotFound(t *testing.T) {
	rig := newProxyRig(t)
	store := pending.NewStore(&pending.MemoryStorage{})
	_, err := store.Cancel(context.Background(), rig.client, "a37439165d134678a9100ebba3b29597")
	require.ErrorIs(t, err, payroc.ErrNotFound)
}

// A refund recorded longer ago than ResendWindow is never sent again: the gateway may have forgotten its key,
// and a replay would then put a new refund on the reader. After a proxy restart, Cancel and resume of such a
// record report it unknown (404, so the page offers Forget) and submit nothing.
func TestAnOldRecordIsNeverSentAgain(t *testing.T) {
	rig := newProxyRig(t)
	ctx := context.Background()
	clock := time.Now()
	store := pending.NewStore(&pending.MemoryStorage{})
	store.Now = func() time.Time { return clock }
	r, inst := rig.waitingRefund(t, store)
	unsent := waitingRequest(t) // recorded, its submit never sent: no instruction id
	_, err := store.Begin(unsent)
	require.NoError(t, err)
	rig.restart(t)
	clock = clock.Add(pending.ResendWindow)
	before := rig.sim.Stats().Requests[sim.RouteSubmit]

	_, err = store.Cancel(ctx, rig.client, inst.RefundInstructionID)
	require.ErrorIs(t, err, payroc.ErrNotFound, "an old record's cancel is not re-attached")
	_, err = store.Run(ctx, rig.client, r, false, nil)
	require.ErrorIs(t, err, payroc.ErrNotFound, "an old record's resume watches, and its 404 stands")
	_, err = store.Run(ctx, rig.client, unsent, false, nil)
	require.ErrorIs(t, err, payroc.ErrNotFound, "an old record without an instruction id is not submitted")
	assert.Equal(t, before, rig.sim.Stats().Requests[sim.RouteSubmit], "an old record was sent again")
	recs, err := store.List()
	require.NoError(t, err)
	require.Len(t, recs, 2, "the records stay for the cashier to check and forget")

	clock = clock.Add(-time.Minute) // inside the window: the same Cancel re-attaches
	got, err := store.Cancel(ctx, rig.client, inst.RefundInstructionID)
	require.NoError(t, err)
	assert.Equal(t, payroc.StatusCanceled, got.Status)
}

// A record that does not say when it was made (written before CreatedAt existed) counts as old: after a
// proxy restart its Cancel and resume report it unknown and submit nothing.
func TestARecordWithoutCreatedAtIsNeverSentAgain(t *testing.T) {
	rig := newProxyRig(t)
	ctx := context.Background()
	storage := &pending.MemoryStorage{}
	store := pending.NewStore(storage)
	r, inst := rig.waitingRefund(t, store)
	storeKey := pending.Prefix + r.IdempotencyKey()
	v, ok, err := storage.Get(storeKey)
	require.NoError(t, err)
	require.True(t, ok)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(v), &raw))
	require.Contains(t, raw, "createdAt")
	delete(raw, "createdAt")
	b, err := json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, storage.Set(storeKey, string(b)))
	rig.restart(t)
	before := rig.sim.Stats().Requests[sim.RouteSubmit]

	_, err = store.Cancel(ctx, rig.client, inst.RefundInstructionID)
	require.ErrorIs(t, err, payroc.ErrNotFound, "the cancel of a record without CreatedAt is not re-attached")
	_, err = store.Run(ctx, rig.client, r, false, nil)
	require.ErrorIs(t, err, payroc.ErrNotFound, "its resume watches, and the 404 stands")
	assert.Equal(t, before, rig.sim.Stats().Requests[sim.RouteSubmit], "a record without CreatedAt was sent again")
	rec, err := store.Get(r.IdempotencyKey())
	require.NoError(t, err)
	require.NotNil(t, rec, "the record stays for the cashier to check and forget")
}

// refund() with the key of a record older than ResendWindow that holds an instruction id watches that
// instruction to its end: the id is the truth about the key, whatever the record's age.
func TestRunWatchesTheInstructionOfAnOldRecord(t *testing.T) {
	rig := newProxyRig(t)
	ctx := context.Background()
	clock := time.Now()
	store := pending.NewStore(&pending.MemoryStorage{})
	store.Now = func() time.Time { return clock }
	r, inst := rig.waitingRefund(t, store)
	clock = clock.Add(pending.ResendWindow)
	require.NoError(t, rig.sim.Finish(inst.RefundInstructionID, payroc.StatusCompleted))
	before := rig.sim.Stats().Requests[sim.RouteSubmit]

	fresh, err := store.Begin(r)
	require.NoError(t, err)
	require.False(t, fresh)
	res, err := store.Run(ctx, rig.client, r, fresh, nil)
	require.NoError(t, err)
	assert.Equal(t, inst.RefundInstructionID, res.Instruction.RefundInstructionID)
	assert.Equal(t, payroc.StatusCompleted, res.Instruction.Status)
	assert.Equal(t, before, rig.sim.Stats().Requests[sim.RouteSubmit], "an old record was sent again")
	rec, err := store.Get(r.IdempotencyKey())
	require.NoError(t, err)
	assert.Nil(t, rec, "the result is known: the record ends")
}

// Watch records each status on the record of the instruction it follows and hands it on with the record's
// key; the final status ends the record. An instruction this browser did not submit has no key.
func TestWatchRecordsEachStatus(t *testing.T) {
	rig := newProxyRig(t)
	ctx := context.Background()
	store := pending.NewStore(&pending.MemoryStorage{})
	r, inst := rig.waitingRefund(t, store)
	require.NoError(t, rig.sim.Finish(inst.RefundInstructionID, payroc.StatusCompleted))
	other, err := rig.client.Submit(ctx, waitingRequest(t)) // submitted elsewhere: no record here
	require.NoError(t, err)
	require.NoError(t, rig.sim.Finish(other.RefundInstructionID, payroc.StatusCompleted))

	var heard []payroc.RefundInstruction
	got, err := store.Watch(ctx, rig.client, inst.RefundInstructionID, func(i *payroc.RefundInstruction) { heard = append(heard, *i) })
	require.NoError(t, err)
	assert.Equal(t, payroc.StatusCompleted, got.Status)
	assert.Equal(t, r.IdempotencyKey(), got.IdempotencyKey)
	require.NotEmpty(t, heard)
	for _, h := range heard {
		assert.Equal(t, r.IdempotencyKey(), h.IdempotencyKey, "each status carries the record's key")
	}
	rec, err := store.Get(r.IdempotencyKey())
	require.NoError(t, err)
	assert.Nil(t, rec, "the final status ends the record")

	got, err = store.Watch(ctx, rig.client, other.RefundInstructionID, nil)
	require.NoError(t, err)
	assert.Equal(t, payroc.StatusCompleted, got.Status)
	assert.Empty(t, got.IdempotencyKey, "not submitted from this browser")
}
