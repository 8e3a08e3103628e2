package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// roundResult is one side's share of one round: each operation's latency and the time the round took.
type roundResult struct {
	lat  []time.Duration
	took time.Duration
}

// tally is one side's results over alternating rounds (A B A B …).
type tally struct {
	rounds []roundResult
}

func (t *tally) add(lat []time.Duration, took time.Duration) {
	t.rounds = append(t.rounds, roundResult{lat: lat, took: took})
}

// all is every operation's latency, all rounds pooled: the latencies a user meets over all their requests.
func (t *tally) all() []time.Duration {
	var out []time.Duration
	for _, r := range t.rounds {
		out = append(out, r.lat...)
	}
	return out
}

// rate is operations per second over all rounds: every operation over the time all rounds took together.
func (t *tally) rate() float64 {
	var ops int
	var took time.Duration
	for _, r := range t.rounds {
		ops += len(r.lat)
		took += r.took
	}
	return ratio(float64(ops), took.Seconds())
}

// comparison is side a against side b: latency and throughput ratios pooled over every operation of each
// side, and the spread (lowest and highest) of the same ratios taken round by round. The pooled p99 is the
// one a user meets; a median of per-round ratios would hide the rounds where the tail is long, so the
// per-round figures are shown only as a spread beside it.
type comparison struct {
	P50, P99, Thr              float64
	P99Lo, P99Hi, ThrLo, ThrHi float64
	P50A, P50B, P99A, P99B     time.Duration
	RateA, RateB               float64
	rounds, opsPerSidePerRound int
}

// compare pools a and b (the same number of rounds each).
func compare(a, b *tally) comparison {
	la, lb := a.all(), b.all()
	c := comparison{P50A: quantile(la, 0.5), P50B: quantile(lb, 0.5), P99A: quantile(la, 0.99), P99B: quantile(lb, 0.99),
		RateA: a.rate(), RateB: b.rate(), rounds: len(a.rounds)}
	if len(a.rounds) > 0 {
		c.opsPerSidePerRound = len(a.rounds[0].lat)
	}
	c.P50, c.P99, c.Thr = ratio(c.P50A, c.P50B), ratio(c.P99A, c.P99B), ratio(c.RateA, c.RateB)
	var p99s, thrs []float64
	for i := range min(len(a.rounds), len(b.rounds)) {
		ra, rb := a.rounds[i], b.rounds[i]
		p99s = append(p99s, ratio(quantile(ra.lat, 0.99), quantile(rb.lat, 0.99)))
		thrs = append(thrs, ratio(float64(len(ra.lat))/ra.took.Seconds(), float64(len(rb.lat))/rb.took.Seconds()))
	}
	c.P99Lo, c.P99Hi = spread(p99s)
	c.ThrLo, c.ThrHi = spread(thrs)
	return c
}

// opsPerSide is how many operations each side ran over all rounds: what the figures are pooled over, and what
// per-operation costs measured over the same rounds divide by.
func (c comparison) opsPerSide() int {
	return c.rounds * c.opsPerSidePerRound
}

// spread is the lowest and highest of vs (NaN for none).
func spread(vs []float64) (lo, hi float64) {
	if len(vs) == 0 {
		return math.NaN(), math.NaN()
	}
	return slices.Min(vs), slices.Max(vs)
}

// ratios prints c's ratios: "p50 1.02x p99 1.18x (rounds 0.97–1.31x) throughput 0.94x (rounds 0.90–0.99x)".
func (c comparison) ratios() string {
	return fmt.Sprintf("p50 %s p99 %s (rounds %s–%s) throughput %s (rounds %s–%s)", fmtRatio(c.P50), fmtRatio(c.P99),
		fmtRatio(c.P99Lo), fmtRatio(c.P99Hi), fmtRatio(c.Thr), fmtRatio(c.ThrLo), fmtRatio(c.ThrHi))
}

// absolute prints the figures c's ratios come from, side a then side b.
func (c comparison) absolute(a, b string) string {
	return fmt.Sprintf("%s p50 %s p99 %s %.0f/s, %s p50 %s p99 %s %.0f/s", a, fmtDur(c.P50A), fmtDur(c.P99A), c.RateA,
		b, fmtDur(c.P50B), fmtDur(c.P99B), c.RateB)
}

// meets reports whether c is within the latency and throughput targets (p50 ≤ p50Max, when above 0).
func (c comparison) meets(p50Max, p99Max, thrMin float64) bool {
	return (p50Max <= 0 || c.P50 <= p50Max) && c.P99 <= p99Max && c.Thr >= thrMin
}
