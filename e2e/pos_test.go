package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chromedp/chromedp"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/server"
)

// This file drives the POS page (web/index.html) through its data-testid hooks, as a cashier would.

var deviceSeq atomic.Int32

// newDevice returns a simulated device that no other test of this run uses.
func newDevice(t *testing.T) sim.Device {
	t.Helper()
	n := deviceSeq.Add(1)
	require.False(t, n > extraDevices, "the suite needs more than %d simulated devices: raise extraDevices", extraDevices)
	serial := fmt.Sprintf("185002%04d", n)
	for _, d := range env.stack.Sim.Devices() {
		if d.SerialNumber == serial {
			return d
		}
	}
	require.FailNow(t, "the simulator has no device "+serial)
	return sim.Device{}
}

// laneSpec is the lane token a test's page signs in with. Zero values: the test's own device, 1,000.00 USD,
// 1h, a lane named after the test.
type laneSpec struct {
	devices   []sim.Device
	maxAmount int64
	currency  string
	ttl       string
	lane      string
	// confirmAbove, when set, is the token's own confirmation threshold (the proxy's default is 10000).
	confirmAbove *int64
}

var laneName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (s laneSpec) request(t *testing.T) server.TokenRequest {
	req := server.TokenRequest{MaxAmount: s.maxAmount, Currency: s.currency, TTL: s.ttl, Lane: s.lane, ConfirmAbove: s.confirmAbove}
	for _, d := range s.devices {
		req.Devices = append(req.Devices, d.SerialNumber)
	}
	if req.MaxAmount == 0 {
		req.MaxAmount = 100000
	}
	if req.Currency == "" {
		req.Currency = "USD"
	}
	if req.TTL == "" {
		req.TTL = "1h"
	}
	if req.Lane == "" {
		l := laneName.ReplaceAllString(t.Name(), "-")
		if len(l) > 60 {
			l = l[len(l)-60:]
		}
		req.Lane = "e2e-" + strings.Trim(l, "-")
	}
	return req
}

// mintToken gets a lane token from proxy's admin API.
func mintToken(t *testing.T, proxy *harness.Proxy, spec laneSpec) server.TokenResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := proxy.LaneToken(ctx, spec.request(t))
	require.NoError(t, err)
	return tok
}

// pos is one POS page in one tab, signed in with a lane token for the test's device.
type pos struct {
	*harness.Tab
	t      *testing.T
	proxy  *harness.Proxy
	device sim.Device
	token  server.TokenResponse
	spec   laneSpec
}

type posOption func(*posConfig)

type posConfig struct {
	proxy   *harness.Proxy
	spec    laneSpec
	device  *sim.Device
	sibling *pos
	before  func(*harness.Tab) // runs on the fresh tab before the page loads
	noWait  bool               // do not wait for data-ready=true
	label   string             // names the tab in logs and artifacts
	query   string             // the page address's query, e.g. "lang=fr"
}

func onProxy(p *harness.Proxy) posOption        { return func(c *posConfig) { c.proxy = p } }
func withLane(s laneSpec) posOption             { return func(c *posConfig) { c.spec = s } }
func onDevice(d sim.Device) posOption           { return func(c *posConfig) { c.device = &d } }
func beforeLoad(f func(*harness.Tab)) posOption { return func(c *posConfig) { c.before = f } }
func sameBrowser(other *pos) posOption          { return func(c *posConfig) { c.sibling = other } }
func dontWaitReady() posOption                  { return func(c *posConfig) { c.noWait = true } }
func labelled(name string) posOption            { return func(c *posConfig) { c.label = name } }
func withQuery(q string) posOption              { return func(c *posConfig) { c.query = q } }

// openPOS opens the POS page in a fresh tab, signed in (#token=) for a device of the test's own.
func openPOS(t *testing.T, opts ...posOption) *pos {
	t.Helper()
	setupOrFail(t)
	c := posConfig{proxy: env.stack.Proxy}
	for _, o := range opts {
		o(&c)
	}
	dev := sim.Device{}
	if c.device != nil {
		dev = *c.device
	} else {
		dev = newDevice(t)
	}
	if len(c.spec.devices) == 0 {
		c.spec.devices = []sim.Device{dev}
	}
	tok := mintToken(t, c.proxy, c.spec)
	var tabOpts []harness.TabOption
	if c.sibling != nil {
		tabOpts = append(tabOpts, harness.SharingStorage(c.sibling.Tab))
	}
	if c.label != "" {
		tabOpts = append(tabOpts, harness.Label(c.label))
	}
	tab := env.browser.NewTab(t, tabOpts...)
	if c.before != nil {
		c.before(tab)
	}
	p := &pos{Tab: tab, t: t, proxy: c.proxy, device: dev, token: tok, spec: c.spec}
	address := c.proxy.URL + "/"
	if c.query != "" {
		address += "?" + c.query
	}
	tab.Navigate(address + "#token=" + tok.Token)
	if !c.noWait {
		tab.WaitReady()
	}
	return p
}

// fill chooses the test's device and types the amount (major units, as a cashier types it).
func (p *pos) fill(amount string) {
	p.t.Helper()
	p.Select("device", p.device.SerialNumber)
	p.Type("amount", amount)
}

// refund fills the form and clicks Refund.
func (p *pos) refund(amount string) {
	p.t.Helper()
	p.fill(amount)
	p.Click("refund-button")
}

// status is the page's data-status (idle, sending, inProgress, canceling, reading, approved, declined,
// failed, canceled, error).
func (p *pos) status() string {
	p.t.Helper()
	return p.Attr("status", "data-status")
}

// waitStatus waits until data-status is one of want and returns it.
func (p *pos) waitStatus(want ...string) string {
	p.t.Helper()
	conds := make([]string, len(want))
	for i, w := range want {
		conds[i] = fmt.Sprintf("s === %q", w)
	}
	cond := `(() => { const s = document.querySelector('[data-testid="status"]').dataset.status; return ` + strings.Join(conds, " || ") + `; })()`
	if err := tryWait(p.Tab, cond); err != nil {
		p.Fatalf("waiting for the status to become %s: it is %q (%q): %v", strings.Join(want, " or "), p.status(), p.Text("status"), err)
	}
	return p.status()
}

// tryWait polls cond within the step deadline without failing the test.
func tryWait(tab *harness.Tab, cond string) error {
	_, err := harness.TryEval[bool](tab, `new Promise((resolve, reject) => {
		const deadline = Date.now() + 19000;
		const tick = () => { let ok = false; try { ok = !!(`+cond+`); } catch (e) {}
			if (ok) return resolve(true);
			if (Date.now() > deadline) return reject(new Error("condition not met"));
			setTimeout(tick, 50); };
		tick(); })`)
	return err
}

// pendingRefund is one entry of payroc.pending().
type pendingRefund struct {
	IdempotencyKey      string `json:"idempotencyKey"`
	RefundInstructionID string `json:"refundInstructionId"`
	Status              string `json:"status"`
	Request             struct {
		SerialNumber string `json:"serialNumber"`
		Order        struct {
			Amount   int64  `json:"amount"`
			Currency string `json:"currency"`
			OrderID  string `json:"orderId"`
		} `json:"order"`
	} `json:"request"`
}

// moduleJS is how a test (or a merchant's own script) reaches the page's loaded module: load() resolves with
// the instance the page already started.
const moduleJS = `import('/payroc.js').then(m => m.load())`

// pending lists the page's unfinished refunds through the module's API.
func (p *pos) pending() []pendingRefund {
	p.t.Helper()
	return harness.Eval[[]pendingRefund](p.Tab, moduleJS+`.then(x => x.pending())`)
}

// waitInstruction waits until the refund in flight on this page has its instruction id (the submit was
// answered) and returns it with its idempotency key.
func (p *pos) waitInstruction() (id, key string) {
	p.t.Helper()
	deadline := time.Now().Add(harness.DefaultStepTimeout)
	for {
		for _, r := range p.pending() {
			if r.RefundInstructionID != "" && r.Request.SerialNumber == p.device.SerialNumber {
				return r.RefundInstructionID, r.IdempotencyKey
			}
		}
		if time.Now().After(deadline) {
			p.Fatalf("no instruction id for the refund on %s after %v (pending: %+v)", p.device.SerialNumber, harness.DefaultStepTimeout, p.pending())
		}
		time.Sleep(50 * time.Millisecond) // polling the page's state with a deadline
	}
}

// receipt is what the receipt shows.
type receipt struct {
	Outcome, OutcomeText, Amount, Card, Entry, Approval, Response, RefundID, DateTime, OrderID, Operator, Terminal string
}

func (p *pos) receipt() receipt {
	p.t.Helper()
	p.WaitVisible("receipt")
	return receipt{
		Outcome: p.Attr("receipt", "data-outcome"), OutcomeText: p.Text("receipt-outcome"),
		Amount: p.Text("receipt-amount"), Card: p.Text("receipt-card"), Entry: p.Text("receipt-entry-method"),
		Approval: p.Text("receipt-approval-code"), Response: p.Text("receipt-response"),
		RefundID: p.Text("receipt-refund-id"), DateTime: p.Text("receipt-datetime"),
		OrderID: p.Text("receipt-order-id"), Operator: p.Text("receipt-operator"), Terminal: p.Text("receipt-terminal"),
	}
}

// stepStates returns the timeline's data-state values: sent, card, result.
func (p *pos) stepStates() [3]string {
	p.t.Helper()
	return [3]string{p.Attr("step-sent", "data-state"), p.Attr("step-card", "data-state"), p.Attr("step-result", "data-state")}
}

var refundIDPattern = regexp.MustCompile(`^[A-Z0-9]{10}$`)

// refundsOf is how many refunds the simulator made for an idempotency key.
func refundsOf(key string) int { return env.stack.Sim.RefundsFor(key) }

// instructionsOf is how many instructions the simulator created for an idempotency key.
func instructionsOf(key string) int { return env.stack.Sim.InstructionsFor(key) }

// exec runs a script in the page for its effect.
func (p *pos) exec(js string) {
	p.t.Helper()
	harness.Eval[chromedp.Void](p.Tab, js)
}

// activeTestID is the data-testid of the focused element ("" when it has none).
func (p *pos) activeTestID() string {
	p.t.Helper()
	return harness.Eval[string](p.Tab, `document.activeElement?.dataset?.testid ?? ""`)
}

// sub returns a view of the page whose failures go to t (for subtests sharing the page).
func (p *pos) sub(t *testing.T) *pos {
	c := *p
	c.t = t
	c.Tab = p.Tab.For(t)
	return &c
}

// recordTrail starts recording every change of the status and the timeline as "status|sent,card,result"
// (e.g. "inProgress|done,active,todo"), so a test can check the order the cashier saw them in.
func (p *pos) recordTrail() {
	p.t.Helper()
	p.exec(`(() => {
		const trail = globalThis.__e2eTrail = [];
		const snap = () => {
			const steps = ['step-sent', 'step-card', 'step-result'].map((id) => document.querySelector('[data-testid="' + id + '"]').dataset.state).join(',');
			const cur = document.querySelector('[data-testid="status"]').dataset.status + '|' + steps;
			if (trail[trail.length - 1] !== cur) trail.push(cur);
		};
		snap();
		new MutationObserver(snap).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state', 'data-status'] });
	})()`)
}

// trail returns what recordTrail saw so far.
func (p *pos) trail() []string {
	p.t.Helper()
	return harness.Eval[[]string](p.Tab, `globalThis.__e2eTrail ?? []`)
}

// inOrder reports whether want appear in got in this order (other entries may come between).
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
