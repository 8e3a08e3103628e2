package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// Scenario 9: loading.

// payroc.wasm arrives as application/wasm, brotli-compressed, with a strong ETag and no-cache (so a
// reload revalidates and never pairs an old payroc.js with a new payroc.wasm).
func TestWasmArrivesBrotliCompressedAsApplicationWasm(t *testing.T) {
	t.Parallel()
	var net *harness.Recorder
	p := openPOS(t, beforeLoad(func(tab *harness.Tab) { net = tab.RecordNetwork() }))
	got := net.Find("/payroc.wasm")
	require.Len(t, got, 1, "the page fetches payroc.wasm once")
	x := got[0]
	assert.EqualValues(t, 200, x.Status, "payroc.wasm status")
	assert.Equal(t, "application/wasm", x.ResponseHeaders["content-type"], "payroc.wasm Content-Type (needed by instantiateStreaming)")
	assert.Equal(t, "br", x.ResponseHeaders["content-encoding"], "payroc.wasm Content-Encoding (request Accept-Encoding %q)", header(x.RequestHeaders, "Accept-Encoding"))
	et := x.ResponseHeaders["etag"]
	assert.NotEmpty(t, et, "payroc.wasm ETag")
	assert.False(t, strings.HasPrefix(et, "W/"), "payroc.wasm ETag %q, want a strong one", et)
	assert.Contains(t, x.ResponseHeaders["cache-control"], "no-cache", "payroc.wasm Cache-Control")
	assert.False(t, len(x.Body) < 8 || string(x.Body[:4]) != "\x00asm", "payroc.wasm body does not start with the wasm magic number (%d bytes)", len(x.Body))
	assert.Contains(t, x.ResponseHeaders["vary"], "Accept-Encoding", "payroc.wasm Vary")
	assert.Equal(t, "idle", p.status(), "page status after loading")
}

// A normal refund leaves nothing on the console at error level: no exception, no failed request.
func TestNormalRefundLeavesNoConsoleErrors(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	p.refund("9.99")
	p.waitStatus("approved")
	p.Click("new-refund-button")
	p.WaitFor("the form to be ready again", `document.querySelector('[data-testid="status"]').dataset.status === "idle"`)
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		for _, e := range errs {
			assert.Fail(t, "an error in the console", "%s", e)
		}
	}
}

// The Go program ending at start (here: it finds no start-up handshake, as when payroc.wasm is run without
// payroc.js) is a clear failure of load() with module-exited, and the page says refunds cannot run.
func TestGoProgramExitAtStartIsReported(t *testing.T) {
	t.Parallel()
	p := openPOS(t, dontWaitReady(), beforeLoad(func(tab *harness.Tab) {
		tab.AllowExit()
		// Swallow the handshake object payroc.js hands the Go program: its main finds none and returns.
		tab.OnNewDocument(`Object.defineProperty(globalThis, '__payrocBoot', { configurable: true, get() { return undefined; }, set(v) {} });`)
	}))
	p.WaitFor("the page to give up loading (data-ready=error)", `document.documentElement.dataset.ready === "error"`)
	p.WaitVisible("load-error")
	msg := p.Text("load-error")
	assert.Contains(t, msg, "stopped", "the load error says the module stopped")
	assert.Contains(t, strings.ToLower(msg), "reload", "the load error says to reload")
	assert.False(t, p.Enabled("refund-button"), "Refund is enabled although the module exited")
	// load() itself, as a merchant's script calls it, rejects with module-exited. (payroc.js removes the
	// handshake property after each start, so put the trap back for this second start.)
	e := harness.Eval[*jsError](p.Tab, `Object.defineProperty(globalThis, '__payrocBoot', { configurable: true, get() { return undefined; }, set(v) {} }),
		import('/payroc.js').then(m => m.load()).then(() => null,
		(e) => ({ name: e.name, message: e.message, code: e.code, status: e.status, isError: e instanceof Error }))`)
	assert.False(t, e == nil || e.code() != "module-exited" || e.Name != "PayrocError" || !e.IsError, "load() after the Go program exited = %+v, want a PayrocError module-exited", e)
}

// captureGo makes the page keep a handle on the Go runtime object payroc.js creates (wasm_exec.js's Go
// class), so a test can take the wasm memory away from it.
const captureGo = `(() => { let G;
	Object.defineProperty(globalThis, 'Go', { configurable: true, get() { return G; },
		set(v) { G = class extends v { constructor(...a) { super(...a); globalThis.__e2eGo = this; } }; } }); })();`

// starveGo grows the module's memory to the browser's limit behind the Go runtime's back, so its next heap
// growth fails: "fatal error: out of memory", the way a kiosk that ran out of memory kills the program.
const starveGo = `(() => { const go = globalThis.__e2eGo; const mem = go._inst.exports.mem;
	for (let step = 16384; step >= 1; step >>= 1) { for (;;) { try { mem.grow(step); } catch { break; } } }
	go.mem = new DataView(mem.buffer); // what the runtime does after its own growth
	return mem.buffer.byteLength; })()`

// The Go program dying after start (a fatal runtime error) turns the call in flight and every later call
// into a rejected PayrocError module-exited instead of a hang.
func TestGoProgramExitAfterStartRejectsCalls(t *testing.T) {
	t.Parallel()
	p := openPOS(t, beforeLoad(func(tab *harness.Tab) {
		tab.AllowExit()
		tab.OnNewDocument(captureGo)
	}))
	type out struct {
		Bytes    float64  `json:"bytes"`
		InFlight *jsError `json:"inFlight"`
		Trigger  *jsError `json:"trigger"`
		Later    *jsError `json:"later"`
		Pending  *jsError `json:"pending"`
	}
	got := api[out](p, `
		const s = await payroc.submit(req(9003)); // stays inProgress
		const inflight = payroc.watch(s.refundInstructionId).then(() => null, err);
		await new Promise((r) => setTimeout(r, 200));
		const bytes = `+starveGo+`;
		const trigger = await payroc.submit({ ...req(9000), order: { ...req(9000).order, description: 'x'.repeat(64 << 20) } }).then(() => null, err);
		const later = await payroc.getRefund('ZZZZZZZZZZ').then(() => null, err);
		const pending = await payroc.pending().then(() => null, err);
		return { bytes, inFlight: await inflight, trigger, later, pending };`)
	t.Logf("wasm memory grown to %.0f MB; the triggering call rejected with %s", got.Bytes/(1<<20), got.Trigger.code())
	for name, e := range map[string]*jsError{"the watch in flight": got.InFlight, "a later getRefund": got.Later, "a later pending": got.Pending} {
		assert.False(t, e == nil || e.code() != "module-exited" || !e.IsPayrocError, "%s after the Go program died = %+v, want a PayrocError module-exited", name, e)
	}
	// The call whose own work killed the program rejects too, with the same code, not a hang.
	if tr := got.Trigger; assert.NotNil(t, tr, "the call during which the Go program died resolved") {
		assert.True(t, tr.IsPayrocError, "the call during which the Go program died = %+v, want a PayrocError", tr)
		assert.Equal(t, "module-exited", tr.code(), "the call during which the Go program died")
	}
	assert.Contains(t, strings.Join(consoleTexts(p.Console()), "\n"), "fatal error: out of memory", "the Go program did not die of the memory starvation: the test proved nothing")
}

func consoleTexts(lines []harness.ConsoleLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}

// A server without the built module (payroc.wasm, or wasm_exec.js too, as after `make clean`): the page says
// in plain words that refunds cannot run, what IT must do, and to reload then; never a blank page or a bare
// technical error.
func TestMissingModuleIsExplainedOnThePage(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	for _, tc := range []struct {
		name    string
		missing []string
	}{
		{"WasmMissing", []string{"payroc.wasm", "payroc.wasm.br", "payroc.wasm.gz"}},
		{"NothingBuilt", []string{"payroc.wasm", "payroc.wasm.br", "payroc.wasm.gz", "wasm_exec.js"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			entries, err := os.ReadDir(filepath.Join(env.root, "web"))
			require.NoError(t, err)
			for _, e := range entries {
				if e.IsDir() || strings.HasPrefix(e.Name(), ".") || slices.Contains(tc.missing, e.Name()) {
					continue
				}
				b, err := os.ReadFile(filepath.Join(env.root, "web", e.Name()))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
			}
			stack, err := harness.StartStack(harness.StackConfig{WebDir: dir})
			require.NoError(t, err)
			t.Cleanup(stack.Close)
			tab := env.browser.NewTab(t)
			tab.Navigate(stack.Proxy.URL + "/")
			tab.WaitFor("the page to give up loading (data-ready=error)", `document.documentElement.dataset.ready === "error"`)
			tab.WaitVisible("load-error")
			msg := tab.Text("load-error")
			for _, want := range []string{"Refunds cannot run", "not installed", "make wasm", "reload this page"} {
				assert.Contains(t, msg, want, "the load error")
			}
			assert.False(t, strings.Contains(msg, "call support") || strings.Contains(msg, "http"), "load error = %q: a missing build is for IT, in words, without addresses", msg)
			assert.False(t, tab.Enabled("refund-button"), "Refund is enabled without the module")
			// load() says which by its code and status, not its message.
			type rejection struct {
				Code   string `json:"code"`
				Status int    `json:"status"`
			}
			got := harness.Eval[rejection](tab, `import('/payroc.js').then((m) => m.load({ token: 'x' })).then(
				() => ({ code: 'resolved', status: -1 }), (e) => ({ code: e.code, status: e.status }))`)
			assert.Equal(t, "module-unavailable", got.Code, "load() without the module's files")
			assert.Equal(t, 404, got.Status, "load() without the module's files")
		})
	}
}
