package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
)

// p4Result is one P4 run: a front (proxy or bare) holding n watches.
type p4Result struct {
	n           int
	perWatch    float64 // Go memory in use (heap + stacks) per held watch, bytes
	rssPerWatch float64
	answeredIn  time.Duration // from the first device finishing to the last watch answered
	conns       int64         // client connections (HTTP/2) to the front
	goroutines  int           // the front's goroutines while holding
}

// BenchmarkP4LongPolls holds 10,000 concurrent watches (one status long-poll each, on 10,000 devices) open
// through one proxy, measures the proxy's memory per held watch, then finishes every device and checks that
// every watch is answered with the final status. The baseline is the same through a bare ReverseProxy. The
// front runs in a child process (see child.go), over HTTPS with HTTP/2 as a browser page with many open polls
// needs; upstream it uses plain HTTP/1.1 keep-alive connections, one per held poll. The clients are 1,000
// pages, each an HTTP/2 connection and a lane of its own watching 10 devices with a lane token scoped to them.
// PAYROC_BENCH_PROFILE=dir saves the front's heap and goroutine profiles while it holds every watch.
// Target: ≤ 1.2×.
func BenchmarkP4LongPolls(b *testing.B) {
	const want = 10_000
	// Each process holds about one socket per held watch (the parent: the simulator's end of each upstream
	// connection; the child: the front's end), plus a few hundred for everything else.
	nofile := raiseOpenFileLimit(1 << 20)
	n := min(want, int(nofile)-600, sim.MaxExtraDevices+2)
	dir := b.TempDir()
	certFile, keyFile, certPEM, err := writeSelfSignedCert(dir)
	require.NoError(b, err)
	res := map[string]p4Result{}
	for _, role := range []string{"bare", "proxy"} {
		s := newScope(b)
		res[role] = runP4(s, role, n, certFile, keyFile, certPEM)
		s.close()
	}
	p, bare := res["proxy"], res["bare"]
	r := p.perWatch / bare.perWatch
	size := fmtInt(int64(n))
	if n < want {
		size = fmt.Sprintf("%s (the most this machine's open-file limit of %d allows; %s asked)", size, nofile, fmtInt(want))
	}
	figure("P4 long-polls", "%s concurrent watches held through one proxy, all answered %s after their devices finished "+
		"(bare %s); memory per held watch %s (proxy %s / bare ReverseProxy %s of Go heap+stacks; RSS %s / %s; "+
		"%d / %d goroutines; HTTP/2 front, %d watches per connection, %d / %d connections; HTTP/1.1 upstream; open-file limit %d) target <=1.2x: %s",
		size, fmtDur(p.answeredIn), fmtDur(bare.answeredIn), fmtRatio(r), fmtKiB(p.perWatch), fmtKiB(bare.perWatch),
		fmtKiB(p.rssPerWatch), fmtKiB(bare.rssPerWatch), p.goroutines, bare.goroutines, watchesPerConn, p.conns, bare.conns, nofile, verdict(r <= 1.2))
}

// watchesPerConn is how many watches share one HTTP/2 connection to the front, like one page watching
// several devices. The open-file limit forbids one connection per watch at 10,000 (the front would need two
// sockets per watch), and sharing keeps the figure about what the front holds per watch.
const watchesPerConn = 10

// prime opens hc's connection to front with one small request, so the watches that follow share it (started
// all at once on a cold client, each would dial a connection of its own).
func prime(ctx context.Context, tb testing.TB, hc *http.Client, front string) {
	tb.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, front+"/healthz", nil)
	res, err := hc.Do(req)
	require.NoError(tb, err, "P4: opening a connection: %v", err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	require.EqualValues(tb, 2, res.ProtoMajor)
}

func runP4(s *scope, role string, n int, certFile, keyFile string, certPEM []byte) p4Result {
	s.Helper()
	up := startSim(s, sim.Config{Delay: time.Hour, Hold: 100 * time.Second, Timeout: 10 * time.Minute,
		ExtraDevices: max(n-2, 0), MaxInstructions: 2 * n}, nil)
	secret := randomHex(32)
	c := startChild(s, role, up, secret, certFile, keyFile)
	if c.NoFile < n+300 {
		s.Fatalf("the %s child may open only %d files, too few for %d watches", role, c.NoFile, n)
	}
	serials := up.serials(0, n)

	// The clients stand in for browser pages: each page is an HTTP/2 connection of its own (primed with one
	// request, so its watches share it) holding watchesPerConn watches.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	var conns atomic.Int64
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	newHTTPClient := func() *http.Client {
		t := &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conns.Add(1)
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     5 * time.Minute,
		}
		s.Cleanup(t.CloseIdleConnections)
		return &http.Client{Transport: t}
	}

	// newClient returns the payroc client for serial over hc: for the proxy, the lane token of the serial's
	// page (a lane of its own, scoped to the page's watchesPerConn devices, as a POS lane's token is); for the
	// bare ReverseProxy, a Payroc bearer (one mint, shared).
	var newClient func(hc *http.Client, serial string) *payroc.Client
	switch role {
	case "proxy":
		keys, err := lane.NewKeyring([][]byte{[]byte(secret)})
		if err != nil {
			s.Fatal(err)
		}
		tokens := make(map[string]string, n)
		for page := 0; page < n; page += watchesPerConn {
			devs := serials[page:min(page+watchesPerConn, n)]
			tok := laneToken(s, keys, fmt.Sprintf("p4-page-%d", page/watchesPerConn), devs)
			for _, d := range devs {
				tokens[d] = tok
			}
		}
		newClient = func(hc *http.Client, serial string) *payroc.Client {
			return proxyClient(c.Front, hc, payroc.NewStaticToken(tokens[serial], nil))
		}
	default:
		bc := bareClient(c.Front, up.Sim.APIKey(), newHTTPClient())
		newClient = func(hc *http.Client, serial string) *payroc.Client {
			cl := *bc
			cl.Doer = payroc.HTTPDoer{Client: hc}
			return &cl
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	s.Cleanup(cancel)

	// Submit one refund per device, then let those connections go: the baseline is a front at rest.
	ids := make([]string, n)
	submitHC := newHTTPClient()
	parallel(s, 64, n, func(i int) error {
		inst, err := newClient(submitHC, serials[i]).Submit(ctx, mustRefund(serials[i], refundRequest(up.terminal(serials[i]), 1000, i), ""))
		if err != nil {
			return fmt.Errorf("P4 %s submit %d: %w", role, i, err)
		}
		ids[i] = inst.RefundInstructionID
		return nil
	})
	submitHC.CloseIdleConnections()
	idle, err := c.mem()
	if err != nil {
		s.Fatal(err)
	}
	idleRSS := idle.RSS

	// Open the watches in batches, each batch held at the simulator before the next starts.
	type answer struct {
		status payroc.Status
		err    error
		at     time.Time
	}
	answers := make(chan answer, n)
	const batch = 500 // watches opened before waiting for them to be held
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		for page := from; page < to; page += watchesPerConn {
			hc := newHTTPClient()
			prime(ctx, s, hc, c.Front)
			for i := page; i < min(page+watchesPerConn, to); i++ {
				cl := newClient(hc, serials[i])
				cl.PollTimeout = 2 * time.Minute // above the simulator's 100 s hold
				go func() {
					inst, err := cl.Watch(ctx, ids[i], nil)
					a := answer{err: err, at: time.Now()}
					if inst != nil {
						a.status = inst.Status
					}
					answers <- a
				}()
			}
		}
		require.Eventually(s, func() bool { return up.Sim.Stats().HeldPolls >= to }, time.Minute, 10*time.Millisecond,
			"P4 %s: %d watches held at the simulator", role, to)
	}
	held, err := c.mem()
	if err != nil {
		s.Fatal(err)
	}
	if dir := os.Getenv("PAYROC_BENCH_PROFILE"); dir != "" {
		saveProfiles(s, c, dir, role)
	}

	// Every device finishes; every watch must come back with the final status.
	start := time.Now()
	for _, id := range ids {
		if err := up.Sim.Finish(id, payroc.StatusCompleted); err != nil {
			s.Fatalf("P4 %s: finishing %s: %v", role, id, err)
		}
	}
	var last time.Time
	completed, failed := 0, 0
	var firstErr error
	timeout := time.After(2 * time.Minute)
	for range n {
		select {
		case a := <-answers:
			if a.err != nil || a.status != payroc.StatusCompleted {
				failed++
				if firstErr == nil {
					firstErr = fmt.Errorf("status %q, error %v", a.status, a.err)
				}
				continue
			}
			completed++
			if a.at.After(last) {
				last = a.at
			}
		case <-timeout:
			s.Fatalf("P4 %s: %d of %d watches never answered after their devices finished (lost outcomes)", role, n-completed-failed, n)
		}
	}
	if failed > 0 {
		s.Fatalf("P4 %s: %d of %d watches ended without the final status (first: %v)", role, failed, n, firstErr)
	}
	return p4Result{
		n:           n,
		perWatch:    (float64(held.InUse()) - float64(idle.InUse())) / float64(n),
		rssPerWatch: (float64(held.RSS) - float64(idleRSS)) / float64(n),
		answeredIn:  last.Sub(start),
		conns:       conns.Load(),
		goroutines:  held.Goroutines,
	}
}

// parallel runs fn(0..n-1) on workers goroutines and fails the benchmark with the first error.
func parallel(tb testing.TB, workers, n int, fn func(i int) error) {
	tb.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		tb.Fatal(first)
	}
}

// saveProfiles writes the child's heap and goroutine profiles (while it holds every watch) into dir, for
// go tool pprof. Set PAYROC_BENCH_PROFILE=dir to get them.
func saveProfiles(tb testing.TB, c *child, dir, role string) {
	for _, p := range []string{"heap", "goroutine"} {
		res, err := http.Get(c.Ctl + "/debug/pprof/" + p)
		if err != nil {
			tb.Logf("P4 profile %s: %v", p, err)
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		_ = os.WriteFile(filepath.Join(dir, "p4-"+role+"-"+p+".pb.gz"), b, 0o644)
	}
}
