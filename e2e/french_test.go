package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
	"github.com/posrefund/cloud/payroc"
)

// englishWords are words that are English and not French: one of them in a French sentence is a sentence
// left half-translated.
var englishWords = regexp.MustCompile(`(?i)\b(the|and|of|to|is|was|not|this|that|card|reader|refund|refunded|refunds|till|token|lane|please|press|device|error|approved|declined|response|reload|cannot|could|with|your|no|has|have|ask|open|link|timed|out|presented|stopped|responding|ended|by)\b`)

// properNouns may stand in a French sentence: names, and the switch that offers the page in English.
var properNouns = []string{"Payroc", "JavaScript", "make wasm", "Show the page in English", "English"}

// stringKeys are what the page's strings.js gives for every key in lang, its placeholders filled with "X".
type stringKeys map[string]string

func allStrings(p *pos, lang string) stringKeys {
	p.t.Helper()
	return harness.Eval[stringKeys](p.Tab, `(async () => {
		const s = await import('/strings.js');
		const before = s.language();
		s.setLanguage('`+lang+`', { save: false });
		const out = {};
		for (const k of Object.keys(s.tables.en)) out[k] = s.t(k).replace(/\{\w+\}/g, 'X');
		for (const text of ['Device error: the card reader stopped responding', 'No card was presented before the instruction timed out',
			"The instruction was ended by the simulator's test controls"]) out['deviceWords: ' + text] = s.deviceWords(text);
		for (const text of ['APPROVED', 'DECLINED']) out['responseWords: ' + text] = s.responseWords(text);
		s.setLanguage(before, { save: false });
		return out;
	})()`)
}

// Issue 19, point 4: every sentence of the page, in both languages; no English word in the French ones (but
// for a short list of proper nouns), and a narrow no-break space before ":" in French.
func TestFrenchHasNoEnglishLeft(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	en := allStrings(p, "en")
	fr := allStrings(p, "fr")
	require.Greater(t, len(en), 100, "the walk found the keys")
	for key, text := range fr {
		assert.NotEmpty(t, en[key], "%s: no English sentence", key)
		plain := text
		for _, n := range properNouns {
			plain = strings.ReplaceAll(plain, n, "")
		}
		if w := englishWords.FindString(plain); w != "" {
			t.Errorf("%s: English word %q in French: %q", key, w, text)
		}
		if m := regexp.MustCompile(`(^|[^\x{202F}\x{00A0}]):( |$)`).FindString(text); m != "" && key != "lang.switchLabel" {
			t.Errorf("%s: no narrow no-break space before %q in French: %q", key, strings.TrimSpace(m), text)
		}
	}
}

// Issue 19, point 4: in French a device's error is said in French (a known one translated), and the
// receipt's response reads "APPROUVÉ (A)", not "Réponse APPROVED (A)".
func TestFrenchOutcomesSpeakFrench(t *testing.T) {
	t.Parallel()
	t.Run("DeviceError", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t, withQuery("lang=fr"))
		p.refund("10.02")
		p.waitStatus("failed")
		s := p.Text("status")
		assert.Contains(t, s, "ne répond plus", "the known device error, translated")
		assert.NotContains(t, s, "Device error")
	})
	t.Run("NoToken", func(t *testing.T) {
		t.Parallel()
		setupOrFail(t)
		tab := env.browser.NewTab(t, harness.Label("no-token"))
		// A proxy not in simulator mode: GET /dev/token is not there, and the till was opened without its link.
		tab.OnNewDocument(`(() => { const f = globalThis.fetch;
			globalThis.fetch = function (input, init) {
				if (String(input?.url ?? input).endsWith('/dev/token')) return Promise.resolve(new Response('', { status: 404 }));
				return f.apply(this, arguments);
			}; })();`)
		tab.Navigate(env.stack.Proxy.URL + "/?lang=fr")
		tab.WaitVisible("load-error")
		msg := tab.Text("load-error")
		assert.Contains(t, msg, "jeton", "the no-token message in French")
		assert.NotContains(t, msg, "lane token")
	})
	t.Run("Receipt", func(t *testing.T) {
		t.Parallel()
		p := openPOS(t, withQuery("lang=fr"))
		p.refund("10.03")
		p.waitStatus("inProgress")
		id, _ := p.waitInstruction()
		require.NoError(t, env.stack.Sim.Finish(id, payroc.StatusCompleted))
		p.waitStatus("approved")
		assert.Equal(t, "APPROUVÉ (A)", p.Text("receipt-response"))
	})
}
