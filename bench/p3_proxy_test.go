package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// p3Op is one unit of P3: submit a refund and GET its status until final (the simulated device finishes at
// once, so normally one GET). It fails on anything but an approved, completed instruction.
func p3Op(ctx context.Context, c *payroc.Client, serial, terminal string, n int) error {
	inst, err := c.Submit(ctx, mustRefund(serial, refundRequest(terminal, 1000, n), ""))
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	for !inst.Status.Final() {
		if inst, err = c.Instruction(ctx, inst.RefundInstructionID); err != nil {
			return fmt.Errorf("status: %w", err)
		}
	}
	if inst.Status != payroc.StatusCompleted || inst.RefundID == "" {
		return fmt.Errorf("instruction ended %s without a refund", inst.Status)
	}
	return nil
}

// BenchmarkP3ProxyCost compares submit + status GET through the proxy with the same through a bare
// httputil.ReverseProxy in front of the same simulator, at 16 and at 32 concurrent clients: p50/p99 latency
// of each operation under that load, and throughput. Rounds alternate between the two so drift on a shared
// machine hits both alike; the ratios pool every operation of each side over all rounds (the p99 a user
// meets), with the spread of the rounds' own ratios beside them. Targets at both loads (the README's P3 row):
// p99 ≤ 1.25×, throughput ≥ 0.90×; p50 is printed as a figure, with no target of its own.
func BenchmarkP3ProxyCost(b *testing.B) {
	const devPerWkr = 4
	loads := []int{16, 32}
	maxWorkers := slices.Max(loads)
	up := startSim(b, sim.Config{Delay: time.Nanosecond, Hold: 10 * time.Second, Timeout: time.Minute,
		ExtraDevices: maxWorkers * devPerWkr, MaxInstructions: 20_000}, nil)
	st := &p3Stack{up: up, px: startProxy(b, proxyConfig(up, randomHex(32), nil), nil), serials: up.serials(2, maxWorkers*devPerWkr),
		devPerWkr: devPerWkr}
	bare := startBare(b, up)
	for _, workers := range loads {
		hc := st.httpClient(b, workers)
		sides := []p3Side{st.proxySide(b, hc, workers), st.bareSide(hc, "bare", bare, workers)}
		t := st.alternate(b, sides, workers, p3Rounds, p3Ops, nil)
		c := compare(t["proxy"], t["bare"])
		figure(fmt.Sprintf("P3 proxy cost, %d clients", workers), "%s (%s; pooled over %d ops per side in %d alternating rounds) "+
			"target p99<=1.25x thr>=0.90x: %s", c.ratios(), c.absolute("proxy", "bare"), c.opsPerSide(), c.rounds,
			verdict(c.meets(0, 1.25, 0.90)))
	}
}

// P3 and P7 run this many rounds of this many operations per side.
const (
	p3Rounds = 8
	p3Ops    = 4000
)

// p3Stack is the simulator and the proxy P3 and P7 run against.
type p3Stack struct {
	up        *simStack
	px        *proxyStack
	serials   []string
	devPerWkr int
}

// p3Side is one side of P3 at one load: a client per worker (each a POS lane with its own devices).
type p3Side struct {
	name    string
	clients []*payroc.Client
}

// devices are worker w's devices out of workers: w, w+workers, … (a lane's token names the few devices at its
// counter; the token is verified on every call, so its size matters). Never two refunds on one device at once.
func (st *p3Stack) devices(w, workers int) []string {
	var out []string
	for d := range st.devPerWkr {
		out = append(out, st.serials[w+workers*d])
	}
	return out
}

// httpClient is the clients' HTTP client at one load (shared by every side, as browsers share a network).
func (st *p3Stack) httpClient(b *testing.B, workers int) *http.Client {
	hc := &http.Client{Transport: clientTransport(workers)}
	b.Cleanup(hc.CloseIdleConnections)
	return hc
}

// proxySide is a lane token per worker against the proxy.
func (st *p3Stack) proxySide(b *testing.B, hc *http.Client, workers int) p3Side {
	sd := p3Side{name: "proxy"}
	for w := range workers {
		tok := laneToken(b, st.px.Keys, fmt.Sprintf("p3-%d-lane-%d", workers, w), st.devices(w, workers))
		sd.clients = append(sd.clients, proxyClient(st.px.URL, hc, payroc.NewStaticToken(tok, nil)))
	}
	return sd
}

// bareSide is a client holding its own Payroc bearer against a bare ReverseProxy at origin.
func (st *p3Stack) bareSide(hc *http.Client, name, origin string, workers int) p3Side {
	c := bareClient(origin, st.up.Sim.APIKey(), hc)
	sd := p3Side{name: name}
	for range workers {
		sd.clients = append(sd.clients, c)
	}
	return sd
}

// alternate warms every side up, then runs rounds of ops operations on each, the sides' order rotating every
// round (A B, B A, … or A B C, B C A, …) so drift on a shared machine hits all alike. measure, when set, is
// called before each side's round and the function it returns after it. It returns each side's tally.
func (st *p3Stack) alternate(b *testing.B, sides []p3Side, workers, rounds, ops int, measure func(side string) func()) map[string]*tally {
	terminal := st.up.terminal(st.serials[0])
	for _, sd := range sides { // warm up: connections, tokens, code paths
		_, _, err := st.round(sd, workers, 20*workers, terminal)
		require.NoError(b, err)
	}
	out := map[string]*tally{}
	order := slices.Clone(sides)
	for r := range rounds {
		if r > 0 {
			order = append(order[1:], order[0])
		}
		for _, sd := range order {
			done := func() {}
			if measure != nil {
				done = measure(sd.name)
			}
			lat, took, err := st.round(sd, workers, ops, terminal)
			done()
			require.NoError(b, err)
			if out[sd.name] == nil {
				out[sd.name] = &tally{}
			}
			out[sd.name].add(lat, took)
		}
	}
	return out
}

// round runs ops operations on one side with workers at once and returns each one's latency and the time
// the whole round took.
func (st *p3Stack) round(sd p3Side, workers, ops int, terminal string) ([]time.Duration, time.Duration, error) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	lat := make([][]time.Duration, workers)
	errs := make([]error, workers)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			devs := st.devices(w, workers)
			for {
				n := int(next.Add(1))
				if n > ops {
					return
				}
				t0 := time.Now()
				if err := p3Op(ctx, sd.clients[w], devs[n%len(devs)], terminal, n); err != nil {
					errs[w] = fmt.Errorf("P3 %s, %d clients: %w", sd.name, workers, err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	return slices.Concat(lat...), took, errors.Join(errs...)
}
