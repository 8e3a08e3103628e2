package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

// faultKind is one way a refund's traffic is disturbed in R1.
type faultKind int

const (
	// faultResetBefore resets the TCP connection before the request is handled: nothing was recorded.
	faultResetBefore faultKind = iota + 1
	// faultResetAfter lets the request be handled (a submit is recorded) and then resets the connection, so
	// the answer is lost.
	faultResetAfter
	// faultStatus answers a 5xx problem without handling the request.
	faultStatus
	// faultUnauthorized answers Payroc's 401 not-authorized to the proxy mid-flight (a revoked bearer): the
	// proxy must re-mint and replay.
	faultUnauthorized
	// faultLaneExpired makes the client's lane token expire mid-flight (after the submit): the proxy answers
	// lane-token-expired and the client renews through its getToken hook. The runner does it, not the injector.
	faultLaneExpired
	// faultIdentityDown takes the identity service down for a while, starting with a 401 on the refund's
	// request, so the proxy has to mint while identity answers 503.
	faultIdentityDown
	// faultSlow delays the answer (sometimes past the proxy's upstream timeout); the request is still handled.
	faultSlow
)

var faultNames = map[faultKind]string{
	faultResetBefore: "reset-before-record", faultResetAfter: "reset-after-record", faultStatus: "5xx",
	faultUnauthorized: "401-upstream", faultLaneExpired: "401-lane-token-expired", faultIdentityDown: "identity-down",
	faultSlow: "slow-answer",
}

func (k faultKind) String() string { return faultNames[k] }

// layer says which hop a fault is on.
type layer int

const (
	layerFront    layer = iota + 1 // client (the browser's module) ↔ proxy
	layerUpstream                  // proxy ↔ Payroc (the simulator)
)

func (l layer) String() string {
	if l == layerFront {
		return "front"
	}
	return "upstream"
}

// fault is one refund's planned disturbance; it fires once, on the first request of the refund that matches.
type fault struct {
	kind   faultKind
	layer  layer
	route  httpapi.Route
	status int           // faultStatus
	delay  time.Duration // faultSlow; how long identity stays down for faultIdentityDown
	fired  atomic.Bool
}

func (f *fault) String() string {
	if f == nil {
		return "none"
	}
	s := fmt.Sprintf("%s %s %s", f.kind, f.layer, f.route)
	switch f.kind {
	case faultStatus:
		s += fmt.Sprint(" ", f.status)
	case faultSlow, faultIdentityDown:
		s += " " + fmtDur(f.delay)
	}
	return s
}

// randomFault draws one refund's fault. Resets hit the submit most of the time (that is where a lost answer
// could make a second refund), and otherwise a status GET or the refund GET.
func randomFault(rng *rand.Rand) *fault {
	routes := []httpapi.Route{httpapi.RouteSubmit, httpapi.RouteSubmit, httpapi.RouteSubmit, httpapi.RouteGetInstruction, httpapi.RouteGetRefund}
	route := routes[rng.IntN(len(routes))]
	f := &fault{kind: faultKind(1 + rng.IntN(int(faultSlow))), layer: layerUpstream, route: route}
	switch f.kind {
	case faultResetBefore, faultResetAfter:
		if rng.IntN(2) == 0 {
			f.layer = layerFront
		}
	case faultStatus:
		f.status = []int{500, 502, 503, 504}[rng.IntN(4)]
	case faultLaneExpired:
		f.layer, f.route = layerFront, httpapi.RouteGetInstruction
	case faultIdentityDown:
		f.delay = time.Duration(200+rng.IntN(300)) * time.Millisecond
	case faultSlow:
		f.delay = time.Duration(50+rng.IntN(1450)) * time.Millisecond
	}
	return f
}

// injector disturbs the traffic of chosen refunds on both hops. It finds a request's refund by its
// Idempotency-Key (submits) or by the instruction and refund ids it learned from earlier answers, so faults hit
// the refund they were planned for however many run at once. It also keeps every answer of the front hop, for
// the leak check.
type injector struct {
	mu        sync.Mutex
	plans     map[string]*fault // by idempotency key (lower case)
	byID      map[string]string // instruction id or refund id → idempotency key
	downUntil time.Time         // identity answers 503 until then
	fired     map[faultKind]int
	identity  int           // identity requests refused while down
	outages   int           // identity outages started
	downTotal time.Duration // their total length

	// seen collects what crossed each hop: front answers (must hold no secret) and the bearers the proxy
	// showed upstream (which are secrets).
	frontAnswers bytes.Buffer
	bearers      map[string]bool
}

func newInjector() *injector {
	return &injector{plans: map[string]*fault{}, byID: map[string]string{}, fired: map[faultKind]int{}, bearers: map[string]bool{}}
}

// plan assigns f to the refund with this idempotency key.
func (in *injector) plan(key string, f *fault) {
	in.mu.Lock()
	in.plans[strings.ToLower(key)] = f
	in.mu.Unlock()
}

// firedCounts returns how many faults of each kind fired.
func (in *injector) firedCounts() map[faultKind]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[faultKind]int, len(in.fired))
	for k, v := range in.fired {
		out[k] = v
	}
	return out
}

// take returns the refund's fault if it is for this hop and route and has not fired yet, marking it fired.
func (in *injector) take(l layer, route httpapi.Route, key string) *fault {
	if key == "" {
		return nil
	}
	in.mu.Lock()
	f := in.plans[key]
	if f == nil || f.layer != l || f.route != route || f.kind == faultLaneExpired || !f.fired.CompareAndSwap(false, true) {
		in.mu.Unlock()
		return nil
	}
	in.fired[f.kind]++
	in.mu.Unlock()
	if f.kind == faultIdentityDown {
		in.identityOutage(f.delay)
	}
	return f
}

// identityOutage makes sure identity is down as the caller's request is refused: it joins the outage under
// way, or starts one of length d. An outage is an event many refunds ride out together, and identity stays
// up for outageGap between two of them however many refunds draw this fault: a request that comes in that
// gap waits for its end (to Payroc's clients it is a slow answer) and then starts the next outage.
func (in *injector) identityOutage(d time.Duration) {
	for {
		in.mu.Lock()
		now := time.Now()
		switch {
		case now.Before(in.downUntil):
			in.mu.Unlock()
			return
		case now.After(in.downUntil.Add(outageGap)):
			in.downUntil = now.Add(d)
			in.outages++
			in.downTotal += d
			in.mu.Unlock()
			return
		}
		wait := in.downUntil.Add(outageGap).Sub(now)
		in.mu.Unlock()
		time.Sleep(wait + time.Millisecond)
	}
}

// outageGap is the least time identity stays up between two outages.
const outageGap = 200 * time.Millisecond

func (in *injector) identityDown() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if time.Now().Before(in.downUntil) {
		in.identity++
		return true
	}
	return false
}

func (in *injector) keyOf(route httpapi.Route, param string, r *http.Request) string {
	if route == httpapi.RouteSubmit {
		return strings.ToLower(strings.TrimSpace(r.Header.Get("Idempotency-Key")))
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.byID[param]
}

// learn files the ids an answer reveals under the refund's key: the instruction id of a submit, the refund id
// of a completed instruction.
func (in *injector) learn(key string, status int, body []byte) {
	if key == "" || status < 200 || status > 299 {
		return
	}
	var inst payroc.RefundInstruction
	if json.Unmarshal(body, &inst) != nil || inst.RefundInstructionID == "" {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.byID[inst.RefundInstructionID] = key
	if id := payroc.RefundIDFromLink(inst.Link); id != "" {
		in.byID[id] = key
	}
}

// wrap puts the injector on hop l in front of next.
func (in *injector) wrap(l layer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l == layerUpstream && in.upstream(w, r, next) {
			return
		}
		rest, _ := httpapi.TrimV1(r.URL.EscapedPath())
		route, param, _ := httpapi.Match(r.Method, rest)
		key := ""
		if route != httpapi.RouteNone {
			key = in.keyOf(route, param, r)
		}
		f := in.take(l, route, key)
		if f != nil && in.before(w, r, f) {
			return
		}
		rec := &recorder{ResponseWriter: w, header: http.Header{}}
		next.ServeHTTP(rec, r)
		in.learn(key, rec.status, rec.body.Bytes())
		if l == layerFront {
			in.noteFrontAnswer(rec)
		}
		if f != nil && f.kind == faultResetAfter {
			resetConn(w)
			return
		}
		rec.flush()
	})
}

// upstream notes every Payroc bearer it sees (the leak checks hunt for them) and serves the identity
// route itself when identity is down; it reports whether it answered.
func (in *injector) upstream(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		in.noteBearer(tok)
	}
	if path := r.URL.EscapedPath(); path != "/authorize" && path != "/v1/authorize" {
		return false
	}
	if in.identityDown() {
		_, _ = io.Copy(io.Discard, r.Body)
		writeStatusProblem(w, http.StatusServiceUnavailable)
		return true
	}
	rec := &recorder{ResponseWriter: w, header: http.Header{}}
	next.ServeHTTP(rec, r)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(rec.body.Bytes(), &tr) == nil && tr.AccessToken != "" {
		in.noteBearer(tr.AccessToken)
	}
	rec.flush()
	return true
}

// before applies a fault that acts before the request is served; it reports whether it answered.
func (in *injector) before(w http.ResponseWriter, r *http.Request, f *fault) bool {
	switch f.kind {
	case faultResetBefore:
		resetConn(w)
		return true
	case faultStatus:
		_, _ = io.Copy(io.Discard, r.Body)
		writeStatusProblem(w, f.status)
		return true
	case faultUnauthorized, faultIdentityDown:
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		httpapi.WriteProblem(w, httpapi.Problem("", payroc.CodeNotAuthorized, "The bearer token has been revoked"))
		return true
	case faultSlow:
		// A slow server keeps working after its caller gave up: the delay ignores the request's context.
		time.Sleep(f.delay)
	}
	return false
}

func (in *injector) noteBearer(tok string) {
	in.mu.Lock()
	in.bearers[tok] = true
	in.mu.Unlock()
}

// noteFrontAnswer keeps what the front answered the client, headers and body, for the leak checks.
func (in *injector) noteFrontAnswer(rec *recorder) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for k, vs := range rec.header {
		fmt.Fprintf(&in.frontAnswers, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	in.frontAnswers.Write(rec.body.Bytes())
	in.frontAnswers.WriteByte('\n')
}

// writeStatusProblem answers status with a problem document in Payroc's shape, as an overloaded or failing
// gateway would.
func writeStatusProblem(w http.ResponseWriter, status int) {
	p := httpapi.Problem("", payroc.CodeForStatus(status), "Injected failure ("+http.StatusText(status)+")")
	p.Status = status
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	if status == http.StatusServiceUnavailable {
		p.RetryAfter = time.Second
	}
	httpapi.WriteProblem(w, p)
}

// resetConn aborts the connection with a TCP reset (SO_LINGER 0), the way a crashed peer or a load balancer
// does; over HTTP/2 it resets the stream instead.
func resetConn(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// recorder holds an answer back until the injector decides whether it gets through. Unwrap lets
// http.ResponseController reach the connection (long-polls extend their write deadline through it).
type recorder struct {
	http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// Flush is a no-op: the whole answer goes at once, after the injector's decision.
func (r *recorder) Flush() {}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) flush() {
	h := r.ResponseWriter.Header()
	for k, vs := range r.header {
		h[k] = vs
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.ResponseWriter.WriteHeader(r.status)
	_, _ = r.ResponseWriter.Write(r.body.Bytes())
}
