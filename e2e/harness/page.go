package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// TestID is the CSS selector of the element with data-testid=id (the page's fixed test hooks).
func TestID(id string) chromedp.CSS {
	return chromedp.CSS(`[data-testid=` + strconv.Quote(id) + `]`)
}

// jsTestID is a JavaScript expression for that element (or null).
func jsTestID(id string) string {
	return `document.querySelector(` + strconv.Quote(`[data-testid=`+strconv.Quote(id)+`]`) + `)`
}

// Navigate loads url in the tab and waits for its load event.
func (tab *Tab) Navigate(url string) {
	tab.t.Helper()
	tab.Do("navigating to "+url, chromedp.Navigate(url))
}

// Reload reloads the page and waits for its load event.
func (tab *Tab) Reload() {
	tab.t.Helper()
	tab.Do("reloading the page", chromedp.Reload())
}

// WaitReady waits until the page says its module is loaded: <html data-ready="true">.
func (tab *Tab) WaitReady() {
	tab.t.Helper()
	tab.WaitFor("the page to be ready (html[data-ready=true])", `document.documentElement.dataset.ready === "true"`)
}

// Open navigates to url and waits until the page is ready.
func (tab *Tab) Open(url string) {
	tab.t.Helper()
	tab.Navigate(url)
	tab.WaitReady()
}

// WaitFor polls a JavaScript condition until it is truthy, within the step deadline. The failure message shows
// what the condition was and the page's visible status.
func (tab *Tab) WaitFor(what, cond string) {
	tab.t.Helper()
	if err := tab.poll(cond, tab.timeout()); err != nil {
		tab.Fatalf("waiting for %s: %v", what, err)
	}
}

// WaitForWithin is WaitFor with a deadline of its own (for waits known to be longer than one step).
func (tab *Tab) WaitForWithin(what, cond string, d time.Duration) {
	tab.t.Helper()
	if err := tab.poll(cond, d); err != nil {
		tab.Fatalf("waiting for %s: %v", what, err)
	}
}

func (tab *Tab) poll(cond string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(tab.ctx, d)
	defer cancel()
	expr := `(() => { try { return !!(` + cond + `); } catch (e) { return false; } })()`
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil && ctx.Err() == nil {
				return last
			}
			return fmt.Errorf("not true after %v: %s", d, short(cond))
		case <-tick.C:
		}
	}
}

// Exists reports whether an element with data-testid=id is in the page now.
func (tab *Tab) Exists(id string) bool {
	tab.t.Helper()
	return Eval[bool](tab, jsTestID(id)+` !== null`)
}

// Visible reports whether the element with data-testid=id is in the page and rendered (not hidden, not
// display:none anywhere up the tree).
func (tab *Tab) Visible(id string) bool {
	tab.t.Helper()
	return Eval[bool](tab, jsVisible(id))
}

func jsVisible(id string) string {
	return `(() => { const e = ` + jsTestID(id) + `; return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0; })()`
}

// WaitVisible waits until the element with data-testid=id is rendered.
func (tab *Tab) WaitVisible(id string) {
	tab.t.Helper()
	tab.WaitFor(fmt.Sprintf("%q to be visible", id), jsVisible(id))
}

// WaitHidden waits until the element with data-testid=id is gone or hidden.
func (tab *Tab) WaitHidden(id string) {
	tab.t.Helper()
	tab.WaitFor(fmt.Sprintf("%q to be hidden", id), `!`+jsVisible(id))
}

// Text returns the visible text of the element with data-testid=id ("" when it is absent).
func (tab *Tab) Text(id string) string {
	tab.t.Helper()
	return Eval[string](tab, `(() => { const e = `+jsTestID(id)+`; return e ? (e.innerText || e.textContent || "").trim() : ""; })()`)
}

// WaitText waits until the text of the element with data-testid=id contains substr (case-insensitive) and
// returns the whole text.
func (tab *Tab) WaitText(id, substr string) string {
	tab.t.Helper()
	cond := `(() => { const e = ` + jsTestID(id) + `; return !!e && (e.innerText || e.textContent || "").toLowerCase().includes(` +
		strconv.Quote(strings.ToLower(substr)) + `); })()`
	if err := tab.poll(cond, tab.timeout()); err != nil {
		tab.Fatalf("waiting for %q to contain %q (it reads %q): %v", id, substr, tab.Text(id), err)
	}
	return tab.Text(id)
}

// Attr returns an attribute of the element with data-testid=id ("" when absent).
func (tab *Tab) Attr(id, name string) string {
	tab.t.Helper()
	return Eval[string](tab, `(() => { const e = `+jsTestID(id)+`; return (e && e.getAttribute(`+strconv.Quote(name)+`)) || ""; })()`)
}

// Enabled reports whether the control with data-testid=id exists and is not disabled.
func (tab *Tab) Enabled(id string) bool {
	tab.t.Helper()
	return Eval[bool](tab, `(() => { const e = `+jsTestID(id)+`; return !!e && !e.disabled && e.getAttribute("aria-disabled") !== "true"; })()`)
}

// WaitEnabled waits until the control with data-testid=id is enabled.
func (tab *Tab) WaitEnabled(id string) {
	tab.t.Helper()
	tab.WaitFor(fmt.Sprintf("%q to be enabled", id),
		`(() => { const e = `+jsTestID(id)+`; return !!e && !e.disabled && e.getAttribute("aria-disabled") !== "true"; })()`)
}

// Click clicks the element with data-testid=id with the mouse, as a cashier would (it must be visible).
func (tab *Tab) Click(id string) {
	tab.t.Helper()
	tab.Do("clicking "+strconv.Quote(id), chromedp.Click(TestID(id), chromedp.NodeVisible))
}

// DoubleClick double-clicks the element with data-testid=id.
func (tab *Tab) DoubleClick(id string) {
	tab.t.Helper()
	tab.Do("double-clicking "+strconv.Quote(id), chromedp.DoubleClick(TestID(id), chromedp.NodeVisible))
}

// Type replaces the value of the field with data-testid=id by typing text into it with key events (select
// all, delete, then the characters), the way a cashier types.
func (tab *Tab) Type(id, text string) {
	tab.t.Helper()
	tab.Do("typing into "+strconv.Quote(id),
		chromedp.Click(TestID(id), chromedp.NodeVisible),
		chromedp.Evaluate[chromedp.Void](jsTestID(id)+`.select()`),
		chromedp.KeyEvent("\b"),
	)
	if text != "" {
		tab.Do("typing into "+strconv.Quote(id), chromedp.SendKeys(TestID(id), text, chromedp.NodeVisible))
	}
	if got := tab.Value(id); got != text {
		tab.Fatalf("typed %q into %q but it holds %q", text, id, got)
	}
}

// Value returns the value of the form control with data-testid=id.
func (tab *Tab) Value(id string) string {
	tab.t.Helper()
	return Eval[string](tab, `(() => { const e = `+jsTestID(id)+`; return e ? String(e.value) : ""; })()`)
}

// Select chooses the option of the <select> with data-testid=id whose value is value, and fires input and
// change as a person's choice would.
func (tab *Tab) Select(id, value string) {
	tab.t.Helper()
	ok := Eval[bool](tab, `(() => { const e = `+jsTestID(id)+`; if (!e) return false;
		if (![...e.options].some(o => o.value === `+strconv.Quote(value)+`)) return false;
		e.value = `+strconv.Quote(value)+`;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true}));
		return true; })()`)
	if !ok {
		tab.Fatalf("select %q has no option %q (options: %s)", id, value, tab.Options(id))
	}
}

// Options lists the option values of the <select> with data-testid=id.
func (tab *Tab) Options(id string) []string {
	tab.t.Helper()
	return Eval[[]string](tab, `(() => { const e = `+jsTestID(id)+`; return e && e.options ? [...e.options].map(o => o.value) : []; })()`)
}

// LocalStorage returns every localStorage item of the page's origin.
func (tab *Tab) LocalStorage() map[string]string {
	tab.t.Helper()
	return Eval[map[string]string](tab, `Object.fromEntries(Object.keys(localStorage).map(k => [k, localStorage.getItem(k)]))`)
}

// HTML returns the page's whole DOM as HTML, with the current values of form fields as attributes (a value
// typed into an input is not in outerHTML otherwise).
func (tab *Tab) HTML() string {
	tab.t.Helper()
	return Eval[string](tab, `(() => {
		for (const e of document.querySelectorAll("input, textarea, select")) e.setAttribute("data-e2e-value", e.value);
		const html = document.documentElement.outerHTML;
		for (const e of document.querySelectorAll("[data-e2e-value]")) e.removeAttribute("data-e2e-value");
		return html; })()`)
}

// JSON renders v for a JavaScript expression (strings, numbers, objects).
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
