package statetest

import (
	"fmt"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/proxy/state"
)

// DiffSettings are the rules of the differential check: the suite's guard times, a TTL no history reaches,
// no rate limit (its buckets are checked by Run), and both devices counted by BusyDevices.
var DiffSettings = state.Settings{TTL: 24 * time.Hour, BusyTimeout: time.Minute, SendTimeout: 30 * time.Second,
	Rate: -1, MaxEntries: 1000, Devices: []string{serial, serial2}}

// Call is one store call of a history, on one of two instances (Instance 0 or 1), after the shared clock
// moved by Advance. A history is data, so rapid shrinks a disagreement to the shortest one.
type Call struct {
	Advance  time.Duration
	Instance int
	Op       string // reserve, settle, lookup, refund, observe, release, busy, holder
	Serial   string
	Key      string
	Lane     string
	ID       string // instruction id (lookup, observe, release; settle when Accepted)
	RefundID string
	Reached  bool
	Accepted bool
	Status   payroc.Status
}

func (c Call) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "+%v #%d %s", c.Advance, c.Instance, c.Op)
	for _, f := range []string{c.Serial, c.Key, c.Lane, c.ID, c.RefundID, string(c.Status)} {
		if f != "" {
			b.WriteString(" " + f)
		}
	}
	if c.Op == "settle" {
		fmt.Fprintf(&b, " reached=%v accepted=%v", c.Reached, c.Accepted)
	}
	return b.String()
}

// The small world histories are drawn from: few devices, keys, lanes and ids, so calls collide.
var (
	diffSerials  = []string{serial, serial2}
	diffKeys     = []string{key1, key2, "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"}
	diffLanes    = []string{"front-1", "front-2"}
	diffIDs      = []string{"inst-1", "inst-2", "inst-3"}
	diffRefunds  = []string{"", "ref-1", "ref-2"}
	diffStatuses = []payroc.Status{payroc.StatusInProgress, payroc.StatusCompleted, payroc.StatusFailure, payroc.StatusCanceled}
	// diffSteps cross the guard's edges: BusyTimeout (60 s) and BusyTimeout + SendTimeout (90 s).
	diffSteps = []time.Duration{0, 0, 0, time.Second, 29 * time.Second, 30 * time.Second, 59 * time.Second,
		60 * time.Second, 61 * time.Second, 89 * time.Second, 90 * time.Second}
	diffOps = []string{"reserve", "reserve", "settle", "settle", "lookup", "refund", "observe", "release", "busy", "holder"}
)

// CallGen draws one call.
var CallGen = rapid.Custom(func(t *rapid.T) Call {
	c := Call{
		Advance:  rapid.SampledFrom(diffSteps).Draw(t, "advance"),
		Instance: rapid.IntRange(0, 1).Draw(t, "instance"),
		Op:       rapid.SampledFrom(diffOps).Draw(t, "op"),
	}
	switch c.Op {
	case "reserve":
		c.Serial, c.Key, c.Lane = drawSerial(t), drawKey(t), drawLane(t)
	case "settle":
		c.Serial, c.Key, c.Reached = drawSerial(t), drawKey(t), rapid.Bool().Draw(t, "reached")
		if c.Accepted = rapid.Bool().Draw(t, "accepted"); c.Accepted {
			c.ID, c.Lane, c.Status = drawID(t), drawLane(t), drawStatus(t)
			c.RefundID = rapid.SampledFrom(diffRefunds).Draw(t, "refund")
		}
	case "lookup":
		c.ID, c.Lane = drawID(t), drawLane(t)
	case "refund":
		c.RefundID = rapid.SampledFrom(diffRefunds[1:]).Draw(t, "refund")
	case "observe":
		c.ID, c.Status = drawID(t), drawStatus(t)
		c.RefundID = rapid.SampledFrom(diffRefunds).Draw(t, "refund")
	case "release":
		c.ID = drawID(t)
	case "holder":
		c.Serial = drawSerial(t)
	}
	return c
})

func drawSerial(t *rapid.T) string        { return rapid.SampledFrom(diffSerials).Draw(t, "serial") }
func drawKey(t *rapid.T) string           { return rapid.SampledFrom(diffKeys).Draw(t, "key") }
func drawLane(t *rapid.T) string          { return rapid.SampledFrom(diffLanes).Draw(t, "lane") }
func drawID(t *rapid.T) string            { return rapid.SampledFrom(diffIDs).Draw(t, "id") }
func drawStatus(t *rapid.T) payroc.Status { return rapid.SampledFrom(diffStatuses).Draw(t, "status") }

// HistoryGen draws a history of 1 to 80 calls.
var HistoryGen = rapid.SliceOfN(CallGen, 1, 80)

// Apply makes call c on s at now and returns its answer as text (errors included), times in milliseconds
// as a shared store keeps them.
func Apply(s state.State, c Call, now time.Time) string {
	switch c.Op {
	case "reserve":
		a, res, err := s.Reserve(ctx, "", state.Reservation{Serial: c.Serial, Key: c.Key, Lane: c.Lane}, now)
		return fmt.Sprintf("%+v %v %v", a, res, err)
	case "settle":
		st := state.Settlement{Serial: c.Serial, Key: c.Key, NothingCreated: !c.Reached}
		if c.Accepted {
			st.Accepted = &state.Instruction{ID: c.ID, Serial: c.Serial, Key: c.Key, Lane: c.Lane, TokenID: "tok-" + c.Lane,
				Amount: 1250, Currency: "USD", OrderID: "ORDER-1001", SubmittedAt: now}
			st.Status, st.RefundID = c.Status, c.RefundID
		}
		done, err := s.Settle(ctx, st, now)
		return fmt.Sprintf("foreign=%v audit=%v %s %v", done.Foreign, done.Audit, recordText(done.Record), err)
	case "lookup":
		a, rec, found, err := s.Lookup(ctx, "", c.ID, c.Lane, now)
		return fmt.Sprintf("%+v %s %v %v", a, recordText(rec), found, err)
	case "refund":
		a, owner, err := s.RefundLane(ctx, "", c.RefundID, now)
		return fmt.Sprintf("%+v %q %v", a, owner, err)
	case "observe":
		rec, audit, err := s.Observe(ctx, c.ID, c.Status, c.RefundID, now)
		return fmt.Sprintf("audit=%v %s %v", audit, recordText(rec), err)
	case "release":
		return fmt.Sprint(s.Release(ctx, c.ID, now))
	case "busy":
		n, err := s.BusyDevices(ctx, now)
		return fmt.Sprint(n, err)
	case "holder":
		rec, found, err := s.Holder(ctx, c.Serial, now)
		return fmt.Sprintf("%s %v %v", recordText(rec), found, err)
	}
	return "unknown op " + c.Op
}

func recordText(r state.Instruction) string {
	at := int64(0)
	if !r.SubmittedAt.IsZero() {
		at = r.SubmittedAt.UnixMilli()
	}
	return fmt.Sprintf("{%s %s %s %s %s %d %s %s %d}", r.ID, r.Serial, r.Key, r.Lane, r.TokenID, r.Amount,
		r.Currency, r.OrderID, at)
}

// Disagreement is the first call of a history two backends answered differently.
type Disagreement struct {
	Step      int
	Call      Call
	Got, Want string
}

func (d *Disagreement) Error() string {
	return fmt.Sprintf("step %d (%v): %s, but the reference answered %s", d.Step, d.Call, d.Got, d.Want)
}

// Compare runs history on ref (one store) and on got (two instances' handles on one store) from the same
// clock, start, and returns the first disagreement (nil when every answer is the same).
func Compare(history []Call, ref state.State, got [2]state.State, start time.Time) *Disagreement {
	now := start
	for i, c := range history {
		now = now.Add(c.Advance)
		want, have := Apply(ref, c, now), Apply(got[c.Instance], c, now)
		if want != have {
			return &Disagreement{Step: i, Call: c, Got: have, Want: want}
		}
	}
	return nil
}

// Differential checks that open's backend answers every random history exactly as the memory store does,
// call for call, on the same clock. open gives two handles on a fresh, empty store each time it is called.
// A history is rapid's state machine: one random call per step (-rapid.steps on average), so a disagreement
// shrinks to the fewest calls that show it, logged one per line. It returns the number of histories and
// calls it ran.
func Differential(t rapid.TB, open func(set state.Settings) (a, b state.State)) (histories, calls int) {
	rapid.Check(t, func(rt *rapid.T) {
		histories++
		a, b := open(DiffSettings)
		got := [2]state.State{a, b}
		ref := state.NewMemory(DiffSettings)
		now := time.UnixMilli(1_800_000_000_000)
		step, last := 0, Call{}
		rt.Repeat(map[string]func(*rapid.T){"call": func(rt *rapid.T) {
			c := CallGen.Draw(rt, "call")
			if c.Op == "settle" && last.Key != "" && rapid.IntRange(0, 3).Draw(rt, "follows") > 0 {
				c.Serial, c.Key = last.Serial, last.Key // most submits settle the reservation just made
			}
			if c.Op == "reserve" {
				last = c
			}
			calls++
			now = now.Add(c.Advance)
			want, have := Apply(ref, c, now), Apply(got[c.Instance], c, now)
			rt.Logf("%d: %v -> %s", step, c, have)
			if want != have {
				rt.Fatal(&Disagreement{Step: step, Call: c, Got: have, Want: want})
			}
			step++
		}})
	})
	return histories, calls
}
