package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// phase is the page's state phase (<body data-phase>): loading, idle, confirming, sending, recovering,
// inProgress, canceling, reading, done, error, watching, unavailable.
func (p *pos) phase() string {
	p.t.Helper()
	return harness.Eval[string](p.Tab, `document.body.dataset.phase`)
}

// waitPhase waits until the page's phase is one of want.
func (p *pos) waitPhase(want ...string) string {
	p.t.Helper()
	p.WaitFor("the phase to become "+strings.Join(want, " or "),
		`[`+strings.Join(quoteAll(want), ",")+`].includes(document.body.dataset.phase)`)
	return p.phase()
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// waitDeliberate waits until the question with data-testid testid ("confirm", "duplicate") has been open
// long enough (500 ms) for a press to count as a deliberate second action rather than the rest of a double tap.
func (p *pos) waitDeliberate(testid string) {
	p.t.Helper()
	p.WaitFor(fmt.Sprintf("%s to have been open 500 ms", testid),
		fmt.Sprintf(`performance.now() - Number(document.querySelector('[data-testid=%q]').dataset.openedAt) > 520`, testid))
}

// submits lists the Idempotency-Keys of the submits the page sent.
func submits(net *harness.Recorder) []string {
	var keys []string
	for _, x := range net.Find("") {
		if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
			keys = append(keys, header(x.RequestHeaders, "Idempotency-Key"))
		}
	}
	return keys
}

// inView reports whether the element with data-testid=id is rendered wholly inside the viewport, without
// scrolling.
func (p *pos) inView(id string) bool {
	p.t.Helper()
	return harness.Eval[bool](p.Tab, `(() => { const e = document.querySelector('[data-testid="`+id+`"]');
		if (!e || e.closest('[hidden]') || !e.getClientRects().length) return false;
		const r = e.getBoundingClientRect();
		return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; })()`)
}

// viewport sets the tab's size, as a tablet or a phone in portrait.
func (p *pos) viewport(w, h int64) {
	p.t.Helper()
	p.Do(fmt.Sprintf("a %dx%d viewport", w, h), chromedp.EmulateViewport(w, h))
}

// offline cuts (or restores) the tab's network, as a till that lost its connection: every request fails.
func (p *pos) offline(off bool) {
	p.t.Helper()
	setOffline(p.Tab, off)
}

// setOffline cuts (or restores) a tab's network: every request fails.
func setOffline(tab *harness.Tab, off bool) {
	tab.Do(fmt.Sprintf("network offline=%v", off), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		return err
	}))
}

// printMedia renders the page as it prints (CSS @media print), or as on screen again.
func (p *pos) printMedia(on bool) {
	p.t.Helper()
	media := ""
	if on {
		media = "print"
	}
	p.Do("emulating print media", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	}))
}

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join(env.root, "e2e", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		return "", fmt.Errorf("axe-core is not installed (run `make test`, or `cd e2e && npm ci`): %w", err)
	}
	return string(b), nil
})

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// audit runs axe-core (the version pinned in e2e/package-lock.json) over the page as it is now and fails the
// test, naming each rule and element, on any violation.
func (p *pos) audit(state string) {
	p.t.Helper()
	src, err := axeSource()
	require.NoError(p.t, err)
	if !harness.Eval[bool](p.Tab, `typeof globalThis.axe === "object"`) {
		harness.Eval[chromedp.Void](p.Tab, src)
	}
	raw := harness.Eval[string](p.Tab, `axe.run(document, { resultTypes: ['violations'] })
		.then((r) => JSON.stringify({ violations: r.violations, passes: r.passes.length }))`)
	var result struct {
		Violations []axeViolation `json:"violations"`
		Passes     int            `json:"passes"`
	}
	require.NoError(p.t, json.Unmarshal([]byte(raw), &result))
	require.Greater(p.t, result.Passes, 10, "axe-core checked almost nothing in the %s state: the audit proves nothing", state)
	p.t.Logf("axe-core, %s state: %d rules passed, %d violated", state, result.Passes, len(result.Violations))
	violations := result.Violations
	var b strings.Builder
	for _, v := range violations {
		fmt.Fprintf(&b, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
	}
	if len(violations) > 0 {
		p.Errorf("axe-core found %d violations in the %s state:%s", len(violations), state, b.String())
	}
}

func int64p(v int64) *int64 { return &v }

func evalString(p *pos, expr string) string {
	p.t.Helper()
	return harness.Eval[string](p.Tab, expr)
}

// disabled reports whether the control with data-testid=id cannot be used (itself or its fieldset disabled).
func (p *pos) disabled(id string) bool {
	p.t.Helper()
	return harness.Eval[bool](p.Tab, `document.querySelector('[data-testid="`+id+`"]').matches(':disabled')`)
}

func itoa(n int) string { return fmt.Sprint(n) }
