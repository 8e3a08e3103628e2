package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// Scenario 8: the JavaScript API, called the way a merchant's own chromedp test calls it: Evaluate with
// EvalAwaitPromise on the page's loaded module (import('/payroc.js').then(m => m.load()) resolves with the
// instance the page started).

// api runs body inside an async function that has payroc (the page's module instance), PayrocError, device
// (this test's serialNumber and processingTerminalId), req(amount, extra) building a refund request, and
// err(e) describing a rejection as plain JSON. body returns the value the test decodes into T.
func api[T any](p *pos, body string) T {
	p.t.Helper()
	return harness.Eval[T](p.Tab, apiScript(p, body))
}

func apiScript(p *pos, body string) string {
	return `(async () => {
		const mod = await import('/payroc.js');
		const payroc = await mod.load();
		const PayrocError = mod.PayrocError;
		const device = { serialNumber: ` + harness.JSON(p.device.SerialNumber) + `, processingTerminalId: ` + harness.JSON(p.device.ProcessingTerminalID) + ` };
		globalThis.__e2eOrder = (globalThis.__e2eOrder ?? 0);
		const req = (amount, extra = {}) => ({ ...device,
			order: { orderId: 'ORDER-API-' + (++globalThis.__e2eOrder), description: 'Refund from the API test', amount, currency: 'USD' },
			...extra });
		const err = (e) => (e == null ? null : {
			name: e.name, message: String(e.message ?? ''), code: typeof e.code === 'string' ? e.code : null,
			status: typeof e.status === 'number' ? e.status : null, retryable: typeof e.retryable === 'boolean' ? e.retryable : null, problem: e.problem ?? null, isError: e instanceof Error,
			isPayrocError: e instanceof PayrocError,
			isDOMException: typeof DOMException === 'function' && e instanceof DOMException });
		` + body + `
	})()`
}

type jsInstruction struct {
	RefundInstructionID string       `json:"refundInstructionId"`
	Status              string       `json:"status"`
	ErrorMessage        string       `json:"errorMessage"`
	Link                *payroc.Link `json:"link"`
	RefundID            string       `json:"refundId"`
	IdempotencyKey      string       `json:"idempotencyKey"`
}

type jsResult struct {
	Outcome     string          `json:"outcome"`
	Instruction jsInstruction   `json:"instruction"`
	Refund      *payroc.Refund  `json:"refund"`
	Raw         json.RawMessage `json:"-"`
}

type jsError struct {
	Name           string          `json:"name"`
	Message        string          `json:"message"`
	Code           *string         `json:"code"`
	Status         *int            `json:"status"`
	Retryable      *bool           `json:"retryable"`
	Problem        json.RawMessage `json:"problem"`
	IsError        bool            `json:"isError"`
	IsPayrocError  bool            `json:"isPayrocError"`
	IsDOMException bool            `json:"isDOMException"`
}

func (e jsError) code() string {
	if e.Code == nil {
		return ""
	}
	return *e.Code
}

func (e jsError) status() int {
	if e.Status == nil {
		return -1
	}
	return *e.Status
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAPIResolutionShapes(t *testing.T) {
	t.Parallel()

	t.Run("RefundApproved", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		type out struct {
			Result   jsResult `json:"result"`
			Statuses []string `json:"statuses"`
			Key      string   `json:"key"`
		}
		key := newUUID()
		got := api[out](p, `const statuses = [];
			const result = await payroc.refund(req(5123), { idempotencyKey: `+harness.JSON(key)+`, onStatus: (i) => statuses.push(i.status) });
			return { result, statuses, key: result.instruction.idempotencyKey };`)
		r := got.Result
		require.False(t, r.Outcome != "approved" || r.Instruction.Status != "completed", "outcome %q / status %q, want approved / completed", r.Outcome, r.Instruction.Status)
		assert.False(t, r.Refund == nil || !refundIDPattern.MatchString(r.Refund.RefundID) || r.Instruction.RefundID != r.Refund.RefundID, "instruction.refundId %q and refund %+v, want the same 10-character id", r.Instruction.RefundID, r.Refund)
		assert.EqualValues(t, key, got.Key, "instruction.idempotencyKey = %q, want the key given %q", got.Key, key)
		if r.Refund != nil {
			tr := r.Refund.TransactionResult
			assert.False(t, tr.ResponseCode != "A" || tr.AuthorizedAmount == nil || *tr.AuthorizedAmount != -5123 || r.Refund.Order.Amount != 5123, "refund transactionResult %+v, order amount %d: want A, -5123, 5123", tr, r.Refund.Order.Amount)
		}
		assert.False(t, r.Instruction.Link == nil || !strings.HasPrefix(r.Instruction.Link.Href, p.proxy.URL+"/v1/refunds/"), "instruction.link = %+v, want the refund link rewritten to the proxy's origin", r.Instruction.Link)
		assert.Equal(t, "inProgress,completed", strings.Join(got.Statuses, ","), "onStatus saw %v, want [inProgress completed] (each status once, in order)", got.Statuses)
		assert.Equal(t, 1, refundsOf(key), "simulator refunds for the key")
	})

	t.Run("RefundDeclinedFailedCanceled", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		type out struct {
			Declined jsResult      `json:"declined"`
			Failed   jsResult      `json:"failed"`
			Sub      jsInstruction `json:"submitted"`
			Cancel   jsInstruction `json:"cancel"`
			Watch    jsInstruction `json:"watch"`
		}
		got := api[out](p, `
			const declined = await payroc.refund(req(5101));
			const failed = await payroc.refund(req(5102));
			const submitted = await payroc.submit(req(5103));
			const cancel = await payroc.cancel(submitted.refundInstructionId);
			const watch = await payroc.watch(submitted.refundInstructionId);
			return { declined, failed, submitted, cancel, watch };`)
		d := got.Declined
		assert.True(t, d.Outcome == "declined" && d.Instruction.Status == "completed" && d.Refund != nil && d.Refund.TransactionResult.ResponseCode == "D",
			"declined = %+v, want outcome declined, completed, a refund with responseCode D", d)
		f := got.Failed
		assert.True(t, f.Outcome == "failed" && f.Instruction.Status == "failure" && f.Refund == nil && f.Instruction.ErrorMessage != "",
			"failed = %+v, want outcome failed, status failure, refund null and an errorMessage", f)
		s := got.Sub
		assert.True(t, s.Status == "inProgress" && s.RefundInstructionID != "" && uuidV4.MatchString(s.IdempotencyKey),
			"submit = %+v, want inProgress with an id and a generated UUID v4 key", s)
		assert.False(t, got.Cancel.Status != "canceled" || got.Watch.Status != "canceled", "cancel = %q, watch after it = %q, want canceled twice (a cancel is an outcome, not an error)", got.Cancel.Status, got.Watch.Status)
	})

	t.Run("CancelLostTheRace", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t)
		type out struct {
			Cancel jsInstruction `json:"cancel"`
			Refund payroc.Refund `json:"refund"`
		}
		got := api[out](p, `
			const s = await payroc.submit(req(5105));
			const cancel = await payroc.cancel(s.refundInstructionId);
			const refund = await payroc.getRefund(cancel.refundId);
			return { cancel, refund };`)
		assert.False(t, got.Cancel.Status != "completed" || !refundIDPattern.MatchString(got.Cancel.RefundID), "cancel that lost the race = %+v, want completed with a refundId", got.Cancel)
		assert.False(t, got.Refund.RefundID != got.Cancel.RefundID || got.Refund.TransactionResult.ResponseCode != "A", "getRefund = %+v, want the approved refund %s", got.Refund, got.Cancel.RefundID)
	})
}

func TestAPIPayrocErrorFields(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	other := newDevice(t) // not in this page's lane token
	net := p.RecordNetwork()

	for _, tc := range []struct {
		name, call, code string
		status           int
		param            string // a field problem.errors[] must name
		problemType      bool   // problem.type ends in #code
		sentNothing      bool   // refused before any request
	}{
		{name: "AmountZero", call: `payroc.refund(req(0))`, code: "invalid-request", status: 0, param: "order.amount", sentNothing: true},
		{name: "AmountFraction", call: `payroc.submit(req(12.5))`, code: "invalid-request", status: 0, param: "order.amount", sentNothing: true},
		{name: "NoOrderID", call: `payroc.submit({ ...req(100), order: { description: 'x', amount: 100, currency: 'USD' } })`, code: "invalid-request", status: 0, param: "order.orderId", sentNothing: true},
		{name: "BadKey", call: `payroc.submit(req(100), { idempotencyKey: 'not-a-uuid' })`, code: "invalid-request", status: 0, sentNothing: true},
		{name: "DeviceOutOfScope", call: `payroc.submit({ ...req(100), serialNumber: ` + harness.JSON(other.SerialNumber) + `, processingTerminalId: ` + harness.JSON(other.ProcessingTerminalID) + ` })`, code: "out-of-scope", status: 403, problemType: true},
		{name: "CurrencyOutOfScope", call: `payroc.submit({ ...req(100), order: { ...req(100).order, currency: 'EUR' } })`, code: "out-of-scope", status: 403, problemType: true},
		{name: "UnknownRefund", call: `payroc.getRefund('ZZZZZZZZZZ')`, code: "not-found", status: 404, problemType: true},
		{name: "UnknownInstruction", call: `payroc.watch('0123456789abcdef0123456789abcdef')`, code: "not-found", status: 404, problemType: true},
		{name: "ResumeUnknownKey", call: `payroc.resume('6f1c2a9e-3b4d-4c8e-9f10-000000000000')`, code: "not-found", status: 0, sentNothing: true},
		{name: "AmountAsString", call: `payroc.refund({ ...req(100), order: { ...req(100).order, amount: '100' } })`, code: "invalid-request", status: 0, param: "order.amount", sentNothing: true},
		{name: "AmountAsBigInt", call: `payroc.submit({ ...req(100), order: { ...req(100).order, amount: 100n } })`, code: "invalid-request", status: 0, param: "order.amount", sentNothing: true},
		{name: "AmountNaN", call: `payroc.submit(req(NaN))`, code: "invalid-request", status: 0, param: "order.amount", sentNothing: true},
		{name: "NullRequest", call: `payroc.refund(null)`, code: "invalid-request", status: 0, param: "body", sentNothing: true},
		{name: "NoSerialNumber", call: `payroc.submit({ ...req(100), serialNumber: undefined })`, code: "invalid-request", status: 0, param: "serialNumber", sentNothing: true},
		{name: "NullInstructionID", call: `payroc.watch(null)`, code: "invalid-request", status: 0, param: "refundInstructionId", sentNothing: true},
		{name: "OptionsNotAnObject", call: `payroc.submit(req(100), 'fast')`, code: "invalid-request", status: 0, param: "options", sentNothing: true},
		{name: "SignalNotASignal", call: `payroc.watch('0123456789abcdef0123456789abcdef', { signal: {} })`, code: "invalid-request", status: 0, param: "signal", sentNothing: true},
		{name: "OnStatusNotAFunction", call: `payroc.refund(req(100), { onStatus: 'log' })`, code: "invalid-request", status: 0, param: "onStatus", sentNothing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := p.sub(t)
			before := len(net.Find("/v1/")) + len(net.Find("/refund-instructions"))
			e := api[*jsError](p, `try { await `+tc.call+`; return null; } catch (e) { return err(e); }`)
			require.NotNil(t, e, "%s resolved, want a rejection with %s", tc.call, tc.code)
			assert.True(t, e.IsError && e.IsPayrocError && e.Name == "PayrocError", "rejection is Error %v, PayrocError %v, name %q: want a real Error named PayrocError", e.IsError, e.IsPayrocError, e.Name)
			assert.False(t, e.code() != tc.code || e.status() != tc.status, "code %q status %d, want %q %d (message %q)", e.code(), e.status(), tc.code, tc.status, e.Message)
			assert.False(t, e.Retryable == nil || *e.Retryable, "retryable = %v, want false", e.Retryable)
			assert.NotEmpty(t, e.Message, "the rejection's message")
			var prob struct {
				Type   string              `json:"type"`
				Status int                 `json:"status"`
				Errors []payroc.FieldError `json:"errors"`
			}
			if len(e.Problem) > 0 && string(e.Problem) != "null" {
				assert.NoError(t, json.Unmarshal(e.Problem, &prob), "problem %s", e.Problem)
			}
			assert.False(t, tc.problemType && (!strings.HasSuffix(prob.Type, "#"+tc.code) || prob.Status != tc.status), "problem = %s, want type …#%s and status %d", e.Problem, tc.code, tc.status)
			if tc.param != "" {
				var names []string
				for _, f := range prob.Errors {
					names = append(names, f.Parameter)
				}
				assert.Contains(t, strings.Join(names, ","), tc.param, "problem.errors names %v, want %s (problem %s)", names, tc.param, e.Problem)
			}
			if tc.sentNothing {
				assert.Equal(t, before, len(net.Find("/v1/"))+len(net.Find("/refund-instructions")),
					"a request left the browser for a call the module should refuse locally")
			}
		})
	}
}

func TestAPIAbortSignalDuringWatch(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	net := p.RecordNetwork()
	type out struct {
		ID      string          `json:"id"`
		Seen    []string        `json:"seen"`
		Err     *jsError        `json:"err"`
		Custom  *jsError        `json:"custom"`
		Early   *jsError        `json:"early"`
		Took    float64         `json:"took"`
		Pending []pendingRefund `json:"pending"`
	}
	got := api[out](p, `
		const s = await payroc.submit(req(6003)); // ending 03: stays inProgress
		const ac = new AbortController();
		const seen = [];
		let e1 = null;
		const t0 = performance.now();
		let took = 0;
		// Abort once the watch has seen the first status and its next long-poll is open: the page's fetch
		// tells when that poll starts, so no timer races the poll's hold.
		let armed = false;
		const fetch0 = globalThis.fetch;
		globalThis.fetch = function (input, init) {
			const p = fetch0.apply(this, arguments);
			if (armed && (init?.method ?? 'GET') === 'GET' && String(input).includes('/refund-instructions/' + s.refundInstructionId)) {
				armed = false;
				setTimeout(() => ac.abort(), 0);
			}
			return p;
		};
		try {
			await payroc.watch(s.refundInstructionId, { signal: ac.signal, onStatus: (i) => { seen.push(i.status); armed = true; } });
		} catch (e) { e1 = err(e); took = performance.now() - t0; }
		globalThis.fetch = fetch0;
		const ac2 = new AbortController();
		let e2 = null;
		const mine = new Error('cashier left');
		const w2 = payroc.watch(s.refundInstructionId, { signal: ac2.signal });
		setTimeout(() => ac2.abort(mine), 100);
		try { await w2; } catch (e) { e2 = err(e); e2.same = e === mine; }
		let e3 = null;
		try { await payroc.watch(s.refundInstructionId, { signal: AbortSignal.abort() }); } catch (e) { e3 = err(e); }
		return { id: s.refundInstructionId, seen, err: e1, custom: e2, early: e3, took, pending: await payroc.pending() };`)
	assert.False(t, got.Err == nil || got.Err.Name != "AbortError" || !got.Err.IsDOMException, "aborted watch rejected with %+v, want a DOMException named AbortError", got.Err)
	assert.False(t, len(got.Seen) == 0 || got.Seen[0] != "inProgress", "onStatus before the abort saw %v, want inProgress first", got.Seen)
	assert.False(t, got.Custom == nil || got.Custom.Message != "cashier left", "abort with a reason rejected with %+v, want that reason", got.Custom)
	assert.False(t, got.Early == nil || got.Early.Name != "AbortError", "an already-aborted signal rejected with %+v, want AbortError", got.Early)
	// The abort stopped the open long-poll (Chromium reports it canceled) instead of letting it run out.
	var aborted int
	for _, x := range net.Find("/refund-instructions/" + got.ID) {
		if x.Method == "GET" && strings.Contains(x.Failed, "ABORTED") {
			aborted++
		}
	}
	assert.NotZero(t, aborted, "no status GET of %s was aborted in the browser: the abort did not stop the request", got.ID)
	// The abort never cancels on the device: the instruction is still running, and still pending here.
	found := false
	for _, r := range got.Pending {
		if r.RefundInstructionID == got.ID {
			found = true
		}
	}
	assert.True(t, found, "pending() after the abort = %+v, want the instruction %s still there", got.Pending, got.ID)
	assert.NotZero(t, env.stack.Sim.Stats().InProgress, "no instruction in progress on the simulator after the abort")
	status := api[string](p, `return (await payroc.cancel(`+harness.JSON(got.ID)+`)).status;`)
	assert.EqualValues(t, "canceled", status, "cancel after the aborted watch = %q, want canceled (the abort left it running)", status)
}

func TestAPIPendingAndResume(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	type sub struct {
		ID      string          `json:"id"`
		Key     string          `json:"key"`
		Pending []pendingRefund `json:"pending"`
	}
	s := api[sub](p, `const s = await payroc.submit(req(7003));
		return { id: s.refundInstructionId, key: s.idempotencyKey, pending: await payroc.pending() };`)
	var rec *pendingRefund
	for i := range s.Pending {
		if s.Pending[i].IdempotencyKey == s.Key {
			rec = &s.Pending[i]
		}
	}
	require.NotNil(t, rec, "pending() after submit = %+v, want the key %s", s.Pending, s.Key)
	assert.False(t, rec.RefundInstructionID != s.ID || rec.Status != "inProgress" || rec.Request.Order.Amount != 7003 || rec.Request.SerialNumber != p.device.SerialNumber, "pending record = %+v, want id %s, inProgress, 7003 on %s", *rec, s.ID, p.device.SerialNumber)

	// A reload loses every promise; the record stays and resume finishes the refund.
	p.Reload()
	p.WaitReady()
	require.NoError(t, env.stack.Sim.Finish(s.ID, payroc.StatusCompleted))
	type res struct {
		Result   jsResult        `json:"result"`
		Statuses []string        `json:"statuses"`
		Pending  []pendingRefund `json:"pending"`
	}
	r := api[res](p, `const statuses = [];
		const result = await payroc.resume(`+harness.JSON(s.Key)+`, { onStatus: (i) => statuses.push(i.status) });
		return { result, statuses, pending: await payroc.pending() };`)
	assert.False(t, r.Result.Outcome != "approved" || r.Result.Refund == nil || r.Result.Instruction.RefundInstructionID != s.ID, "resume = %+v, want approved with the refund of instruction %s", r.Result, s.ID)
	assert.False(t, len(r.Statuses) == 0 || r.Statuses[len(r.Statuses)-1] != "completed", "resume's onStatus saw %v, want it to end with completed", r.Statuses)
	for _, x := range r.Pending {
		assert.NotEqual(t, s.Key, x.IdempotencyKey, "pending() after resume still lists %s", s.Key)
	}
	assert.Equal(t, 1, instructionsOf(s.Key), "simulator instructions for the key (resume watched, it did not resubmit)")
	assert.Equal(t, 1, refundsOf(s.Key), "simulator refunds for the key")
}

// shortTTL is the lifetime of the lane tokens the renewal tests wait out: long enough for the page to load and
// a submit to pass on a busy machine before it ends (the tests need it to expire after that), short enough to
// wait for.
const shortTTL = "8s"

// An expired lane token is renewed through getToken and the call goes on; the renewed token (same lane)
// still reaches the refund the old one started.
func TestAPIExpiredLaneTokenRenewedThroughGetToken(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	dev := newDevice(t)
	short := laneSpec{devices: []sim.Device{dev}, ttl: shortTTL, lane: "e2e-renew"}
	long := short
	long.ttl = "1h"
	var renewals atomic.Int32
	// The merchant's back office hands out tokens for the same lane through the page's documented hook.
	renew := func(ctx context.Context, _ []any) (string, error) {
		renewals.Add(1)
		tok, err := env.stack.Proxy.LaneToken(ctx, long.request(t))
		return tok.Token, err
	}
	p := openPOS(t, onDevice(dev), withLane(short), beforeLoad(func(tab *harness.Tab) {
		tab.Do("exposing payrocGetLaneToken", chromedp.ExposeFunc("payrocGetLaneToken", renew))
	}))
	net := p.RecordNetwork()

	id := api[string](p, `return (await payroc.submit(req(8003))).refundInstructionId;`)
	// Wait out the token (its expiry has one-second resolution).
	exp, err := time.Parse(time.RFC3339, p.token.ExpiresAt)
	require.NoError(t, err)
	p.WaitForWithin("the lane token to expire", fmt.Sprintf("Date.now() > %d", exp.Add(time.Second).UnixMilli()), time.Until(exp)+10*time.Second)
	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	status := api[string](p, `return (await payroc.watch(`+harness.JSON(id)+`)).status;`)
	assert.EqualValues(t, "completed", status, "watch with an expired token = %q, want completed after the renewal", status)
	assert.GreaterOrEqual(t, renewals.Load(), int32(1), "getToken calls")
	var expired bool
	for _, x := range net.Find("") {
		if strings.Contains(x.URL, "/v1/") && x.Status == 401 && strings.Contains(string(x.Body), "lane-token-expired") {
			expired = true
		}
	}
	assert.True(t, expired, "the proxy never answered lane-token-expired: the test did not exercise the renewal")
	// And a new refund runs on the renewed token.
	assert.Equal(t, "approved", api[string](p, `return (await payroc.refund(req(8000))).outcome;`), "refund after the renewal")
}

// newUUID returns a random UUID v4 (an Idempotency-Key a caller chooses).
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// A merchant's own page (here: any document of the proxy's origin) calls load() without a token in simulator
// mode: a bad option is refused clearly, then the module signs in with /dev/token, and every later load()
// resolves with the same instance (one Go program per page).
func TestAPILoadWithoutATokenUsesDevTokenAndLoadsOnce(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	dev := newDevice(t)
	tab := env.browser.NewTab(t)
	tab.Navigate(env.stack.Proxy.URL + "/healthz")
	type out struct {
		BadOption *jsError `json:"badOption"`
		Same      bool     `json:"same"`
		Outcome   string   `json:"outcome"`
		Boot      bool     `json:"boot"`
	}
	got := harness.Eval[out](tab, `(async () => {
		const m = await import('/payroc.js');
		let badOption = null;
		try { await m.load({ getToken: 'not a function' }); } catch (e) { badOption = { name: e.name, code: e.code, message: e.message, isPayrocError: e instanceof m.PayrocError }; }
		const [a, b] = await Promise.all([m.load(), m.load()]);
		const c = await m.load({ token: 'ignored' });
		const r = await a.refund({ serialNumber: `+harness.JSON(dev.SerialNumber)+`, processingTerminalId: `+harness.JSON(dev.ProcessingTerminalID)+`,
			order: { orderId: 'ORDER-1001', description: 'Refund for order ORDER-1001', amount: 1000, currency: 'USD' } });
		return { badOption, same: a === b && b === c, outcome: r.outcome, boot: '__payrocBoot' in globalThis };
	})()`)
	e := got.BadOption
	assert.True(t, e != nil && e.IsPayrocError && e.code() == "invalid-request" && strings.Contains(e.Message, "getToken"),
		"load({getToken: 'not a function'}) = %+v, want a PayrocError invalid-request naming getToken", got.BadOption)
	assert.True(t, got.Same, "load() resolved with different instances")
	assert.EqualValues(t, "approved", got.Outcome, "refund with the /dev/token lane token = %q, want approved", got.Outcome)
	assert.False(t, got.Boot, "the start-up object (with the lane token) is left on globalThis")
}
