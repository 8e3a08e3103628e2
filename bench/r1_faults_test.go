package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// r1Refund is one refund of R1: what was asked, the fault it met and what came of it.
type r1Refund struct {
	key, serial string
	amount      int64
	fault       *fault
	id          string
	outcome     payroc.Outcome
	err         error
	hung        bool
	resumed     int
	done        atomic.Bool
}

// want is the outcome the simulator decides by amount % 100.
func (r *r1Refund) want() payroc.Outcome {
	switch r.amount % 100 {
	case 1:
		return payroc.OutcomeDeclined
	case 2:
		return payroc.OutcomeFailed
	}
	return payroc.OutcomeApproved
}

// BenchmarkR1FaultInjection runs 600 refunds, 24 at a time, through the proxy and the simulator, each with one
// random fault on the hop between the client (the browser module's Go code) and the proxy, or between the
// proxy and Payroc: a TCP reset before or after the request was handled (a submit recorded), a 5xx, Payroc's
// 401 mid-flight, the lane token expiring mid-flight, identity down for a while, a slow answer (sometimes past
// the proxy's upstream timeout). Every refund keeps its Idempotency-Key through every retry and resume. It
// then counts, against the simulator's own records: duplicates (a second instruction or refund for one key),
// lost outcomes (no outcome, or not the simulator's), hung flows (no end within 30 s). All must be 0. It also
// checks that no secret reached an answer or a log line.
func BenchmarkR1FaultInjection(b *testing.B) { runR1(b, false) }

// BenchmarkR1SharedState is R1 across two proxy instances that share one Redis, behind a round-robin front
// with no stickiness; on top of each refund's fault, one instance is killed a quarter of the way in and Redis
// is restarted (empty: no persistence) half way. Target: still 0 duplicates, 0 lost, 0 hung.
func BenchmarkR1SharedState(b *testing.B) { runR1(b, true) }

// runR1 is R1 on one proxy, or (shared) on two instances with Redis and the extra faults.
func runR1(b *testing.B, shared bool) {
	const (
		refunds = 600
		workers = 24
	)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	in := newInjector()
	up := startSim(b, sim.Config{Delay: 30 * time.Millisecond, Hold: 300 * time.Millisecond, Timeout: time.Minute,
		ExtraDevices: refunds}, func(h http.Handler) http.Handler { return in.wrap(layerUpstream, h) })
	logs := &lockedBuffer{}
	cfg := proxyConfig(up, randomHex(32), nil)
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.CallTimeout = time.Second // a slow answer past this is the proxy's 504, and the client's retry
	cfg.PollTimeout = 3 * time.Second
	cfg.MintMinBackoff, cfg.MintMaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	var sh *r1Shared
	if shared {
		sh = startR1Shared(b, &cfg)
	}
	px := startProxy(b, cfg, func(h http.Handler) http.Handler { return in.wrap(layerFront, h) })
	front := px.URL
	if shared {
		front = sh.front(b, px, startProxy(b, cfg, func(h http.Handler) http.Handler { return in.wrap(layerFront, h) }))
	}
	var finishedN atomic.Int64
	hc := &http.Client{Transport: clientTransport(workers)}

	serials := up.serials(2, refunds)
	rs := make([]*r1Refund, refunds)
	amounts := []int64{1000, 1001, 1002, 1004}
	for i := range rs {
		r := &r1Refund{key: payroc.NewIdempotencyKey(), serial: serials[i], amount: amounts[rng.IntN(len(amounts))] + 100*int64(rng.IntN(50))}
		r.fault = randomFault(rng)
		if r.want() == payroc.OutcomeFailed && r.fault.route == httpapi.RouteGetRefund {
			r.fault.route = httpapi.RouteGetInstruction // a failed refund has no refund to GET
		}
		in.plan(r.key, r.fault)
		rs[i] = r
	}

	var renewals, laneExpiries atomic.Int64
	var laneTokensMu sync.Mutex
	var laneTokensSeen []string
	run := func(r *r1Refund) {
		defer finishedN.Add(1)
		defer r.done.Store(true)
		mint := func() (string, error) {
			t, err := issueLaneToken(px.Keys, "r1", []string{r.serial})
			laneTokensMu.Lock()
			laneTokensSeen = append(laneTokensSeen, t)
			laneTokensMu.Unlock()
			return t, err
		}
		first, err := mint()
		if err != nil {
			r.err = err
			return
		}
		tokens := payroc.NewStaticToken(first, func(context.Context) (string, error) {
			renewals.Add(1)
			return mint()
		})
		c := proxyClient(front, hc, tokens)
		c.PollTimeout = 5 * time.Second
		onStatus := func(inst *payroc.RefundInstruction) {
			if r.id == "" {
				r.id = inst.RefundInstructionID
				if r.fault.kind == faultLaneExpired {
					if t, err := expiredLaneToken(px.Keys, "r1", []string{r.serial}); err == nil {
						laneExpiries.Add(1)
						tokens.Set(t)
					}
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req := mustRefund(r.serial, refundRequest(up.terminal(r.serial), r.amount, 0), r.key)
		res, err := c.RunRefund(ctx, req, payroc.RunOptions{OnStatus: onStatus})
		// A POS whose call failed resumes the refund a moment later (the module's resume): same key, and the
		// instruction id if it was received.
		for err != nil && ctx.Err() == nil && r.resumed < 5 {
			r.resumed++
			if payroc.AsError(err).Retryable() {
				select {
				case <-time.After(time.Duration(r.resumed) * 200 * time.Millisecond):
				case <-ctx.Done():
				}
			}
			res, err = c.RunRefund(ctx, req, payroc.RunOptions{RefundInstructionID: r.id, OnStatus: onStatus})
		}
		switch {
		case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
			r.hung = true
		case err != nil:
			r.err = err
		default:
			r.outcome = res.Outcome
		}
	}
	// Every flow ends by its own deadline; should one ignore it, the watchdog counts it as hung and ends the run.
	start := time.Now()
	if shared {
		go sh.chaos(b, func() float64 { return float64(finishedN.Load()) / refunds })
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		parallel(b, workers, refunds, func(i int) error { run(rs[i]); return nil })
	}()
	select {
	case <-finished:
	case <-time.After(5 * time.Minute):
		stuck := 0
		for _, r := range rs {
			if !r.done.Load() {
				stuck++
			}
		}
		b.Fatalf("R1: duplicates=? lost=? hung=%d: flows still running five minutes in, past their own 30 s deadline", stuck)
	}
	took := time.Since(start)

	// Judge every refund against the simulator's records.
	st := up.Sim.Stats()
	duplicates, lost, hung, resumed := 0, 0, 0, 0
	var problems []string
	outcomes := map[payroc.Outcome]int{}
	mine := map[string]bool{}
	for _, r := range rs {
		mine[r.key] = true
		insts, refs := up.Sim.InstructionsFor(r.key), up.Sim.RefundsFor(r.key)
		resumed += r.resumed
		if insts > 1 || refs > 1 {
			duplicates++
			problems = append(problems, fmt.Sprintf("duplicate: %d instructions, %d refunds for one key (fault %v)", insts, refs, r.fault))
		}
		wantRefunds := 1
		if r.want() == payroc.OutcomeFailed {
			wantRefunds = 0
		}
		switch {
		case r.hung:
			hung++
			problems = append(problems, fmt.Sprintf("hung: no outcome within 30 s (fault %v)", r.fault))
		case r.err != nil:
			lost++
			problems = append(problems, fmt.Sprintf("lost: %v (fault %v)", r.err, r.fault))
		case r.outcome != r.want() || insts != 1 || min(refs, 1) != wantRefunds:
			lost++
			problems = append(problems, fmt.Sprintf("lost: outcome %s, want %s; simulator %d instructions %d refunds (fault %v)",
				r.outcome, r.want(), insts, refs, r.fault))
		default:
			outcomes[r.outcome]++
		}
	}
	for k, n := range st.InstructionsByKey {
		if !mine[k] && n > 0 {
			duplicates++ // an instruction under a key no refund had: a retry that lost its key
			problems = append(problems, "duplicate: an instruction under an unknown key "+k)
		}
	}

	// No secret may reach an answer of the proxy or its logs; lane tokens may not reach the logs either.
	secrets := map[string]string{"the Payroc API key": up.Sim.APIKey(), "the lane-token signing key": px.Secret}
	if shared {
		secrets["the Redis password"] = sh.password
	}
	in.mu.Lock()
	for t := range in.bearers {
		secrets[fmt.Sprintf("Payroc bearer token %d", len(secrets)-1)] = t
	}
	answers := in.frontAnswers.String()
	in.mu.Unlock()
	logText := logs.String()
	leaked := leaks(secrets, map[string]string{"the proxy's answers": answers, "the proxy's logs": logText})
	laneTokensMu.Lock()
	for _, t := range laneTokensSeen {
		if strings.Contains(logText, t) {
			leaked = append(leaked, "a lane token in the proxy's logs")
			break
		}
	}
	laneTokensMu.Unlock()

	fired := in.firedCounts()
	fired[faultLaneExpired] = int(laneExpiries.Load())
	var kinds []string
	total := 0
	for k := faultResetBefore; k <= faultSlow; k++ {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, fired[k]))
		total += fired[k]
	}
	name, extra := "R1 fault injection", ""
	if shared {
		name, extra = "R1 two instances + Redis", sh.summary()
	}
	figure(name, "duplicates=%d lost=%d hung=%d (%s%d refunds, %d at a time, in %s; faults fired %d of %d: %s; "+
		"%d identity outages totalling %s (%d mints refused); %d lane-token renewals; %d resumes after a call gave up; outcomes approved %d "+
		"declined %d failed %d; busy devices left %s; leaked secrets %d in %s of answers and logs; seed %d) target all 0: %s",
		duplicates, lost, hung, extra, refunds, workers, fmtDur(took), total, refunds, strings.Join(kinds, ", "), in.outages, fmtDur(in.downTotal), in.identity, renewals.Load(), resumed,
		outcomes[payroc.OutcomeApproved], outcomes[payroc.OutcomeDeclined], outcomes[payroc.OutcomeFailed], busyDevices(front),
		len(leaked), fmtKiB(float64(len(answers)+len(logText))), seed, verdict(duplicates == 0 && lost == 0 && hung == 0))
	if duplicates > 0 || lost > 0 || hung > 0 || len(leaked) > 0 {
		slices.Sort(problems)
		b.Fatalf("R1: duplicates=%d lost=%d hung=%d leaks=%q\n%s", duplicates, lost, hung, leaked, strings.Join(firstN(problems, 20), "\n"))
	}
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

// busyDevices reads the proxy's payroc_proxy_busy_devices gauge from /metrics ("?" when it cannot).
func busyDevices(base string) string {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return "?"
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "payroc_proxy_busy_devices "); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
