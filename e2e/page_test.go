package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// Issue 10, point 5: on a portrait tablet and a phone, what is being refunded, the status and Cancel are in
// view for the whole refund without scrolling.
func TestStatusAndCancelInViewOnTabletAndPhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		w, h int64
	}{
		{"Tablet", 768, 1024},
		{"Phone", 390, 844},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := openPOS(t)
			p.viewport(tc.w, tc.h)
			p.Type("amount", "25.03")
			p.Do("pressing Enter", chromedp.KeyEvent(kb.Enter))
			p.waitStatus("inProgress")
			id, _ := p.waitInstruction()
			p.WaitEnabled("cancel-button")
			assert.Zero(t, harness.Eval[float64](p.Tab, `scrollY`), "the page is at the top")
			for _, hook := range []string{"progress-amount", "status", "cancel-button", "elapsed"} {
				assert.True(t, p.inView(hook), "%q out of view at %dx%d", hook, tc.w, tc.h)
			}
			require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
			p.waitStatus("approved")
			assert.True(t, p.inView("status"), "the outcome is in view")
		})
	}
}

// Issue 10, point 5: the receipt prints the merchant's name and address, the card's last four digits only,
// the copy it is, the EMV application label and AID of a chip or contactless card, and both copies in print,
// on A4/Letter or an 80 mm receipt printer.
func TestReceiptForTheCustomerAndTheMerchant(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	p.refund("26.00")
	p.waitStatus("approved")
	r := p.receipt()
	assert.Equal(t, "Visa Credit •••• 7062", r.Card)
	assert.NotContains(t, p.Text("receipt"), "453985", "no more than the last four digits on a cardholder copy")
	assert.Contains(t, p.Text("receipt-merchant"), merchantName)
	assert.Contains(t, p.Text("receipt-merchant"), merchantAddress)
	assert.Equal(t, "customer copy", strings.ToLower(p.Text("receipt-copy")))
	assert.Equal(t, "VISA CREDIT", p.Text("receipt-application"), "tag 50, the application label")
	assert.Equal(t, "A0000000031010", p.Text("receipt-aid"), "tag 4F, the AID")
	assert.Equal(t, "Contactless", r.Entry)

	p.exec(`window.print = () => { globalThis.__e2ePrinted = (globalThis.__e2ePrinted ?? 0) + 1; }`)
	p.printMedia(true)
	t.Cleanup(func() { p.printMedia(false) })
	for _, tc := range []struct{ button, layout, page string }{
		{"print-button", "page", "auto"},
		{"print-80mm-button", "80mm", "receipt80"},
	} {
		p.exec(`document.querySelector('[data-testid="` + tc.button + `"]').click()`)
		assert.Equal(t, tc.layout, evalString(p, `document.body.dataset.print`))
		assert.Equal(t, tc.page, evalString(p, `getComputedStyle(document.querySelector('main')).page`), "the page box of the %s layout", tc.layout)
		merchantCopy := evalString(p, `(() => { const c = document.getElementById('receipt-merchant-copy');
			return getComputedStyle(c).display === 'none' ? '' : c.innerText; })()`)
		assert.Contains(t, merchantCopy, "MERCHANT COPY", "the merchant's copy prints after the customer's")
		assert.Contains(t, merchantCopy, "7062")
		assert.False(t, p.Visible("refund-form"), "the form does not print")
		assert.True(t, p.Visible("receipt"))
	}
	assert.Equal(t, 2, harness.Eval[int](p.Tab, `globalThis.__e2ePrinted`))
}

// Issue 10, point 5: clarity: no Cancel at idle, typing a new refund clears the previous receipt, a focus ring
// of at least 3:1 against what surrounds it, the amount focused on load.
func TestClarityDetails(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	assert.Equal(t, "amount", p.activeTestID(), "the amount has the focus on load")
	assert.False(t, p.Visible("cancel-button"), "no Cancel (disabled or not) at idle")

	for _, id := range []string{"amount", "refund-button", "device"} {
		ratio := harness.Eval[float64](p.Tab, `(() => {
			const e = document.querySelector('[data-testid="`+id+`"]');
			e.focus({ focusVisible: true });
			const lum = (c) => { const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map((v) => { v /= 255;
				return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
			const ring = getComputedStyle(e).outlineColor;
			let bg = 'rgb(255, 255, 255)';
			for (let a = e.parentElement; a; a = a.parentElement) {
				const c = getComputedStyle(a).backgroundColor;
				if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') { bg = c; break; }
			}
			if (getComputedStyle(e).outlineStyle === 'none') return 0;
			const [hi, lo] = [lum(ring), lum(bg)].sort((x, y) => y - x);
			return (hi + 0.05) / (lo + 0.05); })()`)
		assert.GreaterOrEqual(t, ratio, 3.0, "focus ring contrast of %q", id)
	}

	p.refund("27.00")
	p.waitStatus("approved")
	require.True(t, p.Visible("receipt"))
	p.Type("amount", "5")
	p.WaitHidden("receipt")
	assert.Equal(t, "idle", p.status(), "a new refund starts clean")
	assert.False(t, p.Visible("error"))
}

// Issue 10, point 6: every sentence in English and Canadian French; ?lang=fr picks French, the switch changes
// and is remembered, amounts and dates follow the language.
func TestFrenchAndTheLanguageSwitch(t *testing.T) {
	t.Parallel()
	p := openPOS(t, withQuery("lang=fr"), withLane(laneSpec{maxAmount: 500000})) // up to 5 000,00 $ US
	assert.Equal(t, "fr-CA", evalString(p, `document.documentElement.lang`))
	assert.Equal(t, "English", p.Text("lang-switch"))
	assert.Equal(t, "Rembourser", p.Text("refund-button"))
	p.Type("amount", "1234,5")
	p.WaitText("amount-preview", "1\u00a0234,50\u00a0$\u00a0US") // French groups and places the symbol with no-break spaces
	assert.Equal(t, "Rembourser 1 234,50 $ US", plain(p.Text("refund-button")))
	p.Type("amount", "12,34")
	p.Click("refund-button")
	p.waitStatus("approved")
	assert.Contains(t, plain(p.Text("status")), "Approuvé : 12,34 $ US remboursé sur la carte se terminant par 7062")
	assert.Equal(t, "copie du client", strings.ToLower(p.Text("receipt-copy")))
	assert.Equal(t, "APPROUVÉ", p.receipt().OutcomeText)
	when := harness.Eval[string](p.Tab, `new Date().toLocaleString('fr-CA', { dateStyle: 'medium' })`)
	assert.Contains(t, p.receipt().DateTime, when, "the date in French")
	p.audit("French")

	// Both tables have the same sentences.
	keys := harness.Eval[[2][]string](p.Tab, `import('/strings.js').then((m) => [Object.keys(m.tables.en).sort(), Object.keys(m.tables.fr).sort()])`)
	assert.Equal(t, keys[0], keys[1], "every English sentence has its French one")

	p.Click("lang-switch")
	p.WaitText("refund-button", "Refund")
	assert.Equal(t, "en-US", evalString(p, `document.documentElement.lang`))
	assert.Contains(t, p.Text("status"), "Approved: $12.34 refunded", "what is on screen changes language at once")
	p.Reload()
	p.WaitReady()
	assert.Equal(t, "Refund", p.Text("refund-button"), "the choice is remembered (and the old ?lang=fr dropped)")
	p.Navigate(p.proxy.URL + "/?lang=fr")
	p.WaitReady()
	assert.Equal(t, "Rembourser", p.Text("refund-button"))
}

// Issue 10, hooks and proof: an axe-core audit finds nothing in the idle, confirm, in-progress, receipt and
// error states (the recovered, connection-lost and French states are audited in their own tests).
func TestAccessibilityAuditOfEveryState(t *testing.T) {
	t.Parallel()
	setupOrFail(t)
	dev := newDevice(t)
	p := openPOS(t, onDevice(dev), withLane(laneSpec{devices: []sim.Device{dev}}))
	p.audit("idle")

	p.fill("150.00")
	p.Click("refund-button")
	p.waitPhase("confirming")
	p.audit("confirm")
	p.Click("confirm-back")

	p.fill("28.03")
	p.Click("refund-button")
	p.waitStatus("inProgress")
	id, _ := p.waitInstruction()
	p.WaitEnabled("cancel-button")
	p.audit("in progress")

	// Another till on the busy reader gets an error.
	other := openPOS(t, onDevice(dev), withLane(laneSpec{lane: "e2e-audit-till-2", devices: []sim.Device{dev}}), labelled("other-till"))
	other.refund("29.00")
	other.waitStatus("error")
	other.audit("error")

	require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
	p.waitStatus("approved")
	p.WaitVisible("receipt")
	p.audit("receipt")

	p.refund("10.01")
	p.waitStatus("declined")
	p.audit("declined")
}

// plain turns the no-break spaces of formatted French amounts into spaces, for comparisons.
func plain(s string) string {
	return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s)
}

// Every data-testid the README lists is on the page (the hooks outside checks rely on), and the DESIGN's
// fixed ones are among them.
func TestEveryDocumentedHookIsOnThePage(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(env.root, "README.md"))
	require.NoError(t, err)
	var hooks []string
	inTable := false
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| area | `data-testid` |") {
			inTable = true
			continue
		}
		if inTable && !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if !inTable || len(cells) < 3 || strings.Contains(line, "---") {
			continue
		}
		cell := cells[2]
		for parens := regexp.MustCompile(`\([^()]*\)`); parens.MatchString(cell); {
			cell = parens.ReplaceAllString(cell, "") // attribute values and notes, not hooks
		}
		for _, m := range hookName.FindAllStringSubmatch(cell, -1) {
			hooks = append(hooks, m[1])
		}
	}
	require.Greater(t, len(hooks), 50, "the README's hooks table (found %v)", hooks)
	for _, fixed := range []string{"device", "amount", "amount-preview", "refund-button", "confirm", "confirm-amount",
		"confirm-button", "confirm-back", "status", "cancel-button", "connection", "elapsed", "error", "resume-banner",
		"receipt", "receipt-card", "receipt-merchant", "lang-switch", "duplicate", "duplicate-button", "duplicate-back"} {
		assert.Contains(t, hooks, fixed, "the README lists DESIGN's hook %q", fixed)
	}
	p := openPOS(t)
	missing := harness.Eval[[]string](p.Tab, `(`+harness.JSON(hooks)+`).filter((id) => !document.querySelector('[data-testid="' + id + '"]'))`)
	assert.Empty(t, missing, "hooks the README lists but the page lacks")
}

// hookName matches a hook in the README's table: a backticked lower-case name.
var hookName = regexp.MustCompile("`([a-z0-9]+(?:-[a-z0-9]+)*)`")
