package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// DefaultStepTimeout bounds one step of a test (a click, a wait for some text, one evaluation). The slowest
// step of this suite, a refund that needs a second long-poll, takes a few seconds with the fast simulator.
const DefaultStepTimeout = 20 * time.Second

// ConsoleLine is one message of the page's console: a console API call, an uncaught exception (Type
// "exception") or a browser log entry (network errors and the like).
type ConsoleLine struct {
	Time time.Time
	Type string // log, info, warning, error, exception, …
	Text string
	URL  string
}

func (l ConsoleLine) String() string {
	return l.Time.Format("15:04:05.000") + " " + l.Type + ": " + l.Text
}

// Tab is one browser tab of a test. Its methods fail the test (t.Fatal, with the artifacts named) when a step
// fails or passes its deadline, so a test reads as a list of steps. Use a Tab from the test's goroutine only.
type Tab struct {
	// StepTimeout bounds each step (0: DefaultStepTimeout).
	StepTimeout time.Duration

	t testing.TB
	*tabCore
}

// tabCore is what the views of one tab (Tab.For) share.
type tabCore struct {
	b      *Browser
	ctx    context.Context // the tab's chromedp context: the tab lives as long as it
	cancel context.CancelFunc
	label  string
	owner  testing.TB // the test that opened the tab: console lines and the final checks go to it

	mu          sync.Mutex
	console     []ConsoleLine
	exceptions  []ConsoleLine
	goFatal     []ConsoleLine
	allowExit   bool
	allowExcept []string
	saved       string // artifacts folder once written

	stopConsole context.CancelFunc
	consoleDone chan struct{}
}

// For returns a view of the tab whose failures go to t: use it in subtests (t.Run) that share the parent's
// tab, since a subtest must not fail its parent with t.Fatal.
func (tab *Tab) For(t testing.TB) *Tab {
	v := *tab
	v.t = t
	return &v
}

// TabOption tunes NewTab.
type TabOption func(*tabOptions)

type tabOptions struct {
	sibling *Tab
	label   string
}

// SharingStorage opens the new tab in the same browser context as other, so both see the same localStorage,
// like two tabs of one browser profile on the same till. Without it every tab has a fresh profile.
func SharingStorage(other *Tab) TabOption { return func(o *tabOptions) { o.sibling = other } }

// Label names the tab in log lines and artifact files (default "tab", then "tab2", …).
func Label(name string) TabOption { return func(o *tabOptions) { o.label = name } }

// NewTab opens a fresh tab for t in a browser context of its own (see SharingStorage), pipes its console into
// t's log and registers the checks and artifacts that run when t ends. The tab is closed when t ends.
func (b *Browser) NewTab(t testing.TB, opts ...TabOption) *Tab {
	t.Helper()
	var o tabOptions
	for _, f := range opts {
		f(&o)
	}
	if err := b.Alive(); err != nil {
		t.Fatalf("harness: %v", err)
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if o.sibling != nil {
		ctx, cancel = chromedp.NewContext(b.ctx,
			chromedp.WithExistingBrowserContext(chromedp.FromContext(o.sibling.ctx).BrowserContextID))
	} else {
		ctx, cancel = chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	}
	if o.label == "" {
		o.label = "tab"
		if o.sibling != nil {
			o.label = o.sibling.label + "2"
		}
	}
	tab := &Tab{t: t, tabCore: &tabCore{b: b, ctx: ctx, cancel: cancel, label: o.label, owner: t, consoleDone: make(chan struct{})}}

	// Opening the target binds it to ctx, so the deadline goes around the call, not into it.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(ctx) }()
	select {
	case err := <-opened:
		if err != nil {
			cancel()
			t.Fatalf("harness: opening a tab: %v", err)
		}
	case <-time.After(DefaultStepTimeout):
		cancel()
		t.Fatalf("harness: opening a tab: no answer within %v", DefaultStepTimeout)
	}

	cctx, stop := context.WithCancel(ctx)
	tab.stopConsole = stop
	messages := chromedp.Console(cctx)
	go tab.readConsole(messages)

	t.Cleanup(tab.finish)
	return tab
}

// Context returns the tab's chromedp context, to run any chromedp action on it directly. Derive deadlines
// from it with context.WithTimeout; never cancel it (the tab closes when the test ends).
func (tab *Tab) Context() context.Context { return tab.ctx }

// T returns the test the tab belongs to.
func (tab *Tab) T() testing.TB { return tab.t }

// AllowExit tells the tab that the Go program in the page is meant to exit (or panic) in this test, so its
// "exit code" and panic lines do not fail the test.
func (tab *Tab) AllowExit() {
	tab.mu.Lock()
	tab.allowExit = true
	tab.mu.Unlock()
}

// AllowException lets uncaught exceptions whose text contains substr pass (for a test that provokes one).
func (tab *Tab) AllowException(substr string) {
	tab.mu.Lock()
	tab.allowExcept = append(tab.allowExcept, substr)
	tab.mu.Unlock()
}

func (tab *Tab) readConsole(messages func(func(chromedp.ConsoleMessage, error) bool)) {
	defer close(tab.consoleDone)
	for m, err := range messages {
		if err != nil {
			return
		}
		line := ConsoleLine{Time: m.Time, Type: string(m.Type), Text: m.Text, URL: m.URL}
		if line.Time.IsZero() {
			line.Time = time.Now()
		}
		if m.IsException() && m.Exception != nil {
			line.Text = exceptionText(m)
		}
		tab.mu.Lock()
		tab.console = append(tab.console, line)
		if m.IsException() {
			tab.exceptions = append(tab.exceptions, line)
		}
		if isGoFatal(line.Text) {
			tab.goFatal = append(tab.goFatal, line)
		}
		tab.mu.Unlock()
		tab.owner.Logf("[%s console] %s: %s", tab.label, line.Type, line.Text)
	}
}

// exceptionText is the error (chromedp puts its description in Text) and the top of the stack.
func exceptionText(m chromedp.ConsoleMessage) string {
	var b strings.Builder
	b.WriteString(m.Text)
	if m.Stack != nil {
		for i, f := range m.Stack.CallFrames {
			if i == 3 {
				break
			}
			fmt.Fprintf(&b, "\n    at %s (%s:%d:%d)", f.FunctionName, f.URL, f.LineNumber+1, f.ColumnNumber+1)
		}
	}
	return b.String()
}

// isGoFatal recognises what a dying Go program prints through wasm_exec.js (a panic, a fatal runtime error,
// the non-zero exit code wasm_exec.js reports) and a panic the module recovered from: recovered or not, a
// panic is a bug the test must not pass over.
func isGoFatal(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") ||
			strings.HasPrefix(l, "exit code:") || strings.HasPrefix(l, "Go program has already exited") ||
			strings.Contains(l, "recovered panic") {
			return true
		}
	}
	return false
}

// Console returns the console lines seen so far.
func (tab *Tab) Console() []ConsoleLine {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]ConsoleLine(nil), tab.console...)
}

// ConsoleErrors returns the lines of type error, exception and assert seen so far (including the browser's
// own "Failed to load resource" lines).
func (tab *Tab) ConsoleErrors() []ConsoleLine {
	var out []ConsoleLine
	for _, l := range tab.Console() {
		switch l.Type {
		case "error", "exception", "assert":
			out = append(out, l)
		}
	}
	return out
}

// finish runs when the test ends: the page checks, then the artifacts when the test failed, then the tab
// closes.
func (tab *Tab) finish() {
	t := tab.owner
	// Let events already on their way arrive: a round trip through the tab flushes the ones sent before it.
	fctx, fcancel := context.WithTimeout(tab.ctx, 2*time.Second)
	_, _ = chromedp.Run(fctx, chromedp.Evaluate[chromedp.Void](`0`))
	fcancel()

	tab.mu.Lock()
	var problems []string
	for _, e := range tab.exceptions {
		if !tab.allowedException(e.Text) {
			problems = append(problems, "uncaught exception in the page: "+e.Text)
		}
	}
	if !tab.allowExit {
		for _, e := range tab.goFatal {
			problems = append(problems, "the page's Go program died: "+e.Text)
		}
	}
	tab.mu.Unlock()
	if len(problems) > 0 {
		dir := tab.SaveArtifacts()
		t.Errorf("[%s] %s\nartifacts: %s", tab.label, strings.Join(problems, "\n"), dir)
	} else if t.Failed() {
		tab.mu.Lock()
		named := tab.saved != ""
		tab.mu.Unlock()
		if dir := tab.SaveArtifacts(); dir != "" && !named {
			t.Logf("[%s] artifacts of the failure (screenshot, console, DOM): %s", tab.label, dir)
		}
	}
	tab.stopConsole()
	<-tab.consoleDone
	tab.cancel()
}

func (tab *Tab) allowedException(text string) bool {
	for _, s := range tab.allowExcept {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

func (tab *Tab) timeout() time.Duration {
	if tab.StepTimeout > 0 {
		return tab.StepTimeout
	}
	return DefaultStepTimeout
}

// Fatalf saves the artifacts and fails the test with them named.
func (tab *Tab) Fatalf(format string, args ...any) {
	tab.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if dir := tab.SaveArtifacts(); dir != "" {
		msg += "\nartifacts (screenshot, console, DOM): " + dir
	}
	tab.t.Fatalf("[%s] %s", tab.label, msg)
}

// Errorf saves the artifacts and marks the test failed with them named; the test goes on.
func (tab *Tab) Errorf(format string, args ...any) {
	tab.t.Helper()
	msg := fmt.Sprintf(format, args...)
	if dir := tab.SaveArtifacts(); dir != "" {
		msg += "\nartifacts (screenshot, console, DOM): " + dir
	}
	tab.t.Errorf("[%s] %s", tab.label, msg)
}

// Do runs chromedp steps, each with the step deadline, and fails the test on the first error. what names the
// steps in the failure message.
func (tab *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	for i, s := range steps {
		ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout())
		err := chromedp.Do(ctx, s)
		cancel()
		if err != nil {
			tab.Fatalf("%s (step %d of %d): %v", what, i+1, len(steps), describe(err))
		}
	}
}

// Run runs one chromedp action with the step deadline and returns its value; it fails the test on an error.
func Run[T any](tab *Tab, what string, a chromedp.Action[T]) T {
	tab.t.Helper()
	v, err := TryRun(tab, a)
	if err != nil {
		tab.Fatalf("%s: %v", what, describe(err))
	}
	return v
}

// TryRun runs one chromedp action with the step deadline and returns its value and error.
func TryRun[T any](tab *Tab, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout())
	defer cancel()
	return chromedp.Run(ctx, a)
}

// Eval evaluates a JavaScript expression in the page (awaiting it when it is a promise) and decodes its value
// into T; it fails the test when the expression throws or rejects.
func Eval[T any](tab *Tab, expr string) T {
	tab.t.Helper()
	v, err := TryEval[T](tab, expr)
	if err != nil {
		tab.Fatalf("evaluating %s: %v", short(expr), describe(err))
	}
	return v
}

// TryEval is Eval returning the error (a *chromedp.ExceptionError when the script threw or rejected).
func TryEval[T any](tab *Tab, expr string) (T, error) {
	return TryRun(tab, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

func describe(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "step deadline passed: " + err.Error()
	}
	return err.Error()
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// OnNewDocument makes the browser run a script in every document the tab loads from now on, before the
// page's own scripts (CDP Page.addScriptToEvaluateOnNewDocument; not subject to the page's CSP). Tests use it
// to stand in for a merchant's own script or to watch what the page does.
func (tab *Tab) OnNewDocument(source string) {
	tab.t.Helper()
	tab.Do("adding a script for new documents", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: source})
		return err
	}))
}
