//go:build !js

package pending_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

// The page model: a rapid state machine over the module's own refund logic (pending.Store's Begin, Submit,
// Run, Cancel, Observe; payroc.Client's RunRefund) in several tabs sharing one storage, against
// modelGateway. Each step is one action of a cashier, a tab, the device or the infrastructure; after every
// step the invariants are checked (pageModel.check).

var modelOrders = []string{"ORDER-1", "ORDER-2"}

type modelTab struct {
	store  *pending.Store
	client *payroc.Client
}

type pageModel struct {
	gw      *modelGateway
	storage *modelStorage
	clock   func() time.Time
	tabs    []*modelTab
	// seen: the final status a caller was given for a key (returned, or reported to onStatus).
	seen map[string]payroc.Status
	// stored: the final status storage first held for a key.
	stored map[string]payroc.Status
	steps  int
	keys   int // keys made so far: each new refund's key is the next
}

func newPageModel() *pageModel {
	m := &pageModel{gw: newModelGateway(), storage: &modelStorage{m: map[string]string{}}, clock: steppingClock(),
		seen: map[string]payroc.Status{}, stored: map[string]payroc.Status{}}
	m.openTab()
	return m
}

// tab opens a page over storage and gw: a fresh Store (a reload or another tab) and its client.
func newModelTab(gw *modelGateway, storage pending.Storage, clock func() time.Time) *modelTab {
	s := pending.NewStore(storage)
	s.Now = clock
	renew := func(context.Context) (string, error) { return gw.bearer(), nil }
	return &modelTab{store: s, client: &payroc.Client{BaseURL: "http://gateway/v1", Doer: gw,
		Tokens:          payroc.NewStaticToken(gw.bearer(), renew),
		Retry:           payroc.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond},
		MinPollInterval: time.Nanosecond}}
}

func (m *pageModel) openTab() { m.tabs = append(m.tabs, newModelTab(m.gw, m.storage, m.clock)) }

func (m *pageModel) drawTab(t *rapid.T) *modelTab {
	return m.tabs[rapid.IntRange(0, len(m.tabs)-1).Draw(t, "tab")]
}

// records lists storage as a fresh tab would (pending() in the page).
func (m *pageModel) records(t *rapid.T) []pending.Refund {
	recs, err := pending.NewStore(m.storage).List()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return recs
}

// drawRecord picks one recorded refund, if any.
func (m *pageModel) drawRecord(t *rapid.T) (pending.Refund, bool) {
	recs := m.records(t)
	if len(recs) == 0 {
		return pending.Refund{}, false
	}
	return recs[rapid.IntRange(0, len(recs)-1).Draw(t, "record")], true
}

// saw notes a final status handed to a caller for key: it may never change (invariant 3).
func (m *pageModel) saw(t *rapid.T, key string, inst *payroc.RefundInstruction) {
	if inst == nil || !inst.Status.Final() {
		return
	}
	if old, ok := m.seen[key]; ok && old != inst.Status {
		t.Fatalf("invariant 3: the outcome of %s was %s and is now reported %s", key, old, inst.Status)
	}
	m.seen[key] = inst.Status
}

func modelRefund(order, key string) payroc.DeviceRefund {
	r, err := pending.ParseRequest(strings.Replace(validRequest, "ORDER-1001", order, 1), key)
	if err != nil {
		panic(err)
	}
	return r
}

// start is the cashier starting a refund for an order, only as the page advises: no refund of it recorded
// unfinished in this browser and none seen completed. It submits, or runs the whole refund.
func (m *pageModel) start(t *rapid.T) {
	order := rapid.SampledFrom(modelOrders).Draw(t, "order")
	for _, r := range m.records(t) {
		if r.Request.Order.OrderID == order {
			t.Skip("a refund of the order is recorded: the page offers Resume, not a new refund")
		}
	}
	for key, st := range m.seen {
		if st == payroc.StatusCompleted && m.orderOf(key) == order {
			t.Skip("the order is refunded")
		}
	}
	m.keys++
	tab, r := m.drawTab(t), modelRefund(order, fmt.Sprintf("00000000-0000-4000-8000-%012d", m.keys))
	m.loseAnswers(t)
	fresh, err := tab.store.Begin(r)
	if err != nil {
		return // storage-unavailable: nothing was sent
	}
	if rapid.Bool().Draw(t, "run") {
		m.run(t, tab, r, fresh)
		return
	}
	inst, _ := tab.store.Submit(context.Background(), tab.client, r, fresh)
	m.saw(t, r.IdempotencyKey(), inst)
}

func (m *pageModel) orderOf(key string) string {
	for _, in := range m.gw.instructions() {
		if in.key == strings.ToLower(key) {
			return in.order
		}
	}
	return ""
}

// loseAnswers queues lost answers for the next submits: before or after they reached the gateway.
func (m *pageModel) loseAnswers(t *rapid.T) {
	faults := rapid.SliceOfN(rapid.SampledFrom([]string{"before", "after"}), 0, 2).Draw(t, "lost answers")
	m.gw.mu.Lock()
	m.gw.lose = faults
	m.gw.mu.Unlock()
}

// resume is a tab resuming a recorded refund (the page's Resume).
func (m *pageModel) resume(t *rapid.T) {
	rec, ok := m.drawRecord(t)
	if !ok {
		t.Skip("nothing to resume")
	}
	r, err := rec.DeviceRefund()
	if err != nil {
		t.Fatalf("a record the module wrote does not read back: %v", err)
	}
	m.loseAnswers(t)
	m.run(t, m.drawTab(t), r, false)
}

// run runs a refund in tab; while it watches, each status read may bring one event: the device ends the
// refund, the proxy restarts, another tab cancels, storage refuses a write, the bearer expires, or the tab
// closes (it always closes by the sixth read, so every step ends).
func (m *pageModel) run(t *rapid.T, tab *modelTab, r payroc.DeviceRefund, fresh bool) {
	key := r.IdempotencyKey()
	ctx, closeTab := context.WithCancel(context.Background())
	defer closeTab()
	polls := 0
	m.gw.mu.Lock()
	m.gw.onPoll = func(id string) {
		polls++
		event := "close"
		if polls < 6 {
			event = rapid.SampledFrom([]string{"none", "none", "complete", "fail", "restart", "cancel", "refuse", "expire", "close"}).Draw(t, "event")
		}
		m.event(t, ctx, closeTab, id, event)
	}
	m.gw.mu.Unlock()
	reported := []payroc.Status{}
	res, _ := tab.store.Run(ctx, tab.client, r, fresh, func(inst *payroc.RefundInstruction) {
		if len(reported) > 0 && reported[len(reported)-1].Final() {
			t.Fatalf("invariant 3: %s reported after the final %s", inst.Status, reported[len(reported)-1])
		}
		reported = append(reported, inst.Status)
		m.saw(t, key, inst)
	})
	m.gw.mu.Lock()
	m.gw.onPoll = nil
	m.gw.mu.Unlock()
	if res != nil {
		m.saw(t, key, res.Instruction)
	}
}

// event is one thing that happens while a tab watches instruction id.
func (m *pageModel) event(t *rapid.T, ctx context.Context, closeTab func(), id, event string) {
	switch event {
	case "complete":
		m.gw.finish(id, payroc.StatusCompleted)
	case "fail":
		m.gw.finish(id, payroc.StatusFailure)
	case "restart":
		m.restart(t)
	case "cancel":
		other := m.drawTab(t)
		inst, _ := other.store.Cancel(ctx, other.client, id)
		if inst != nil {
			m.saw(t, inst.IdempotencyKey, inst)
		}
	case "refuse":
		m.refuse(t)
	case "expire":
		m.expire(t)
	case "close":
		closeTab()
	}
}

// status is a tab reading a recorded refund's status once (a watch's one long-poll round).
func (m *pageModel) status(t *rapid.T) {
	rec, ok := m.drawRecord(t)
	if !ok || rec.RefundInstructionID == "" {
		t.Skip("no recorded instruction")
	}
	tab := m.drawTab(t)
	inst, err := tab.client.Instruction(context.Background(), rec.RefundInstructionID)
	if err != nil {
		return
	}
	_, _ = tab.store.ObserveInstruction(inst, true)
	m.saw(t, rec.IdempotencyKey, inst)
}

// cancel is a tab pressing Cancel on a recorded refund.
func (m *pageModel) cancel(t *rapid.T) {
	rec, ok := m.drawRecord(t)
	if !ok || rec.RefundInstructionID == "" {
		t.Skip("no recorded instruction")
	}
	tab := m.drawTab(t)
	inst, _ := tab.store.Cancel(context.Background(), tab.client, rec.RefundInstructionID)
	if inst != nil {
		m.saw(t, rec.IdempotencyKey, inst)
	}
}

// device ends a refund in progress on its own (card read, declined, timed out).
func (m *pageModel) device(t *rapid.T) {
	var live []string
	for _, in := range m.gw.instructions() {
		if in.status == payroc.StatusInProgress {
			live = append(live, in.id)
		}
	}
	if len(live) == 0 {
		t.Skip("nothing in progress")
	}
	id := rapid.SampledFrom(live).Draw(t, "instruction")
	m.gw.finish(id, rapid.SampledFrom([]payroc.Status{payroc.StatusCompleted, payroc.StatusFailure}).Draw(t, "outcome"))
}

// restart is a proxy restart on memory state: it forgets every instruction until a replay files it again.
func (m *pageModel) restart(*rapid.T) {
	m.gw.mu.Lock()
	clear(m.gw.known)
	m.gw.mu.Unlock()
}

func (m *pageModel) refuse(t *rapid.T) {
	n := rapid.IntRange(1, 2).Draw(t, "refused writes")
	m.storage.mu.Lock()
	m.storage.refuse = n
	m.storage.mu.Unlock()
}

func (m *pageModel) expire(*rapid.T) {
	m.gw.mu.Lock()
	m.gw.unauth = 1
	m.gw.mu.Unlock()
}

func (m *pageModel) reload(t *rapid.T) {
	i := rapid.IntRange(0, len(m.tabs)-1).Draw(t, "tab")
	m.tabs[i] = newModelTab(m.gw, m.storage, m.clock)
}

func (m *pageModel) secondTab(t *rapid.T) {
	if len(m.tabs) >= 3 {
		t.Skip("three tabs open")
	}
	m.openTab()
}

// actions are the state machine's steps; "" checks the invariants after each.
func (m *pageModel) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"start": m.start, "resume": m.resume, "status": m.status, "cancel": m.cancel, "device": m.device,
		"restart": m.restart, "refuse writes": m.refuse, "token expires": m.expire, "reload": m.reload,
		"second tab": m.secondTab,
		"":           func(t *rapid.T) { m.steps++; m.check(t) },
	}
}

// check asserts the invariants on storage and the gateway as they stand.
func (m *pageModel) check(t *rapid.T) {
	recs := m.records(t)
	byKey := map[string]pending.Refund{}
	for _, r := range recs {
		byKey[strings.ToLower(r.IdempotencyKey)] = r
	}
	live := map[string]int{}
	for _, in := range m.gw.instructions() {
		rec, recorded := byKey[in.key]
		if in.status == payroc.StatusInProgress || in.status == payroc.StatusCompleted {
			if live[in.order]++; live[in.order] > 1 {
				t.Fatalf("invariant 1: two instructions for %s are live or completed: a doubled refund", in.order)
			}
		}
		_, seen := m.seen[in.key]
		if !recorded && !seen {
			t.Fatalf("invariant 2: the record of %s (%s) is gone while its outcome was never seen", in.key, in.status)
		}
		if recorded && rec.RefundInstructionID != "" && rec.RefundInstructionID != in.id {
			t.Fatalf("invariant 1: the record of %s names %s, its instruction is %s", in.key, rec.RefundInstructionID, in.id)
		}
		if recorded && in.status == payroc.StatusInProgress {
			m.checkCancel(t, rec)
		}
	}
	for _, r := range recs {
		if !r.Status.Final() {
			continue
		}
		if old, ok := m.stored[r.IdempotencyKey]; ok && old != r.Status {
			t.Fatalf("invariant 3: the record of %s held %s and now %s", r.IdempotencyKey, old, r.Status)
		}
		m.stored[r.IdempotencyKey] = r.Status
	}
}

// checkCancel: a live refund always has a way to cancel. On a copy of the world, a fresh tab presses Cancel
// on the record as the page would (Resume first when it has no instruction id yet): the refund must end.
func (m *pageModel) checkCancel(t *rapid.T, rec pending.Refund) {
	gw := m.gw.clone()
	tab := newModelTab(gw, m.storage.clone(), m.clock)
	ctx := context.Background()
	id := rec.RefundInstructionID
	if id == "" {
		r, err := rec.DeviceRefund()
		if err != nil {
			t.Fatalf("a record the module wrote does not read back: %v", err)
		}
		inst, err := tab.store.Submit(ctx, tab.client, r, false)
		if err != nil {
			t.Fatalf("invariant 4: resuming %s to cancel it: %v", rec.IdempotencyKey, err)
		}
		id = inst.RefundInstructionID
	}
	inst, err := tab.store.Cancel(ctx, tab.client, id)
	if err != nil {
		t.Fatalf("invariant 4: the live refund %s (%s) cannot be canceled: %v", rec.IdempotencyKey, id, err)
	}
	if !inst.Status.Final() || slices.ContainsFunc(gw.instructions(), func(in gwInstruction) bool {
		return in.key == strings.ToLower(rec.IdempotencyKey) && in.status == payroc.StatusInProgress
	}) {
		t.Fatalf("invariant 4: Cancel on %s answered %s and the refund still runs", rec.IdempotencyKey, inst.Status)
	}
}

// pageModelRun is one history of the page model; it counts steps into *steps.
func pageModelRun(histories, steps *int) func(*rapid.T) {
	return func(t *rapid.T) {
		m := newPageModel()
		t.Repeat(m.actions())
		*histories++
		*steps += m.steps
	}
}

func (m *pageModel) String() string { return fmt.Sprintf("%d tabs", len(m.tabs)) }
