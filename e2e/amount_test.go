package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/e2e/harness"
)

// Amounts as a cashier types them become exact minor units with the currency's ISO 4217 digits (the
// exponent of Payroc's amounts), in Chromium's own Intl: its CLDR data says 0 decimals for COP, HUF, IDR,
// PKR and IQD, which would make a typed amount 100 (IQD: 1000) times off.
func TestAmountConversionUsesEachCurrencysDigits(t *testing.T) {
	t.Parallel()
	p := openPOS(t)
	cases := []struct{ text, currency, want string }{
		{"12.50", "USD", "1250"},
		{"12,50", "USD", "1250"},
		{"12,5", "EUR", "1250"},
		{"1,234.56", "USD", "123456"},
		{"1.234,56", "EUR", "123456"},
		{"1 234,56", "EUR", "123456"},
		{"0.01", "USD", "1"},
		{"12.345", "USD", "1234500"},
		{"1,234", "USD", "123400"},
		{"1.2345", "USD", "error: tooManyDecimals"},
		{"1,234.567", "USD", "error: tooManyDecimals"},
		{"9 9", "USD", "error: grouping"},
		{"12 50", "USD", "error: grouping"},
		{"1 99", "USD", "error: grouping"},
		{"12'50", "USD", "error: grouping"},
		{"1'234.50", "USD", "123450"},
		{"1 234", "USD", "123400"},
		{"1 234 567,89", "EUR", "123456789"},
		{"CA$5", "USD", "error: otherCurrency"},
		{"€5", "USD", "error: otherCurrency"},
		{"12,34 €", "USD", "error: otherCurrency"},
		{"EUR 5", "USD", "error: otherCurrency"},
		{"US$5", "USD", "500"},
		{"5 $ US", "USD", "500"},
		{"$5", "CAD", "500"},
		{"12,34 €", "EUR", "1234"},
		{"-1", "USD", "error: negative"},
		{"0", "USD", "error: zero"},
		{"0,00", "USD", "error: zero"},
		{"1250", "JPY", "1250"},
		{"1,250", "JPY", "1250"},
		{"12.5", "JPY", "error: noDecimals"},
		{"12.500", "BHD", "12500"},
		{"12,5", "BHD", "12500"},
		{"0.001", "KWD", "1"},
		{"1.2345", "BHD", "error: tooManyDecimals"},
		{"1.2345", "CLF", "12345"},
		{"10000", "COP", "1000000"},
		{"12,50", "COP", "1250"},
		{"100,50", "HUF", "10050"},
		{"15000", "IDR", "1500000"},
		{"1.5", "PKR", "150"},
		{"1.234", "IQD", "1234"},
		{"1000", "IQD", "1000000"},
		{"90071992547409.91", "USD", "9007199254740991"},
		{"90071992547409.92", "USD", "error: tooLarge"},
		{"1,000", "USD", "ambiguous: 100000 100"},
		{"12.340", "USD", "ambiguous: 1234000 1234"},
		{"$1,000.50", "USD", "100050"},
		{"1.000,50 USD", "USD", "100050"},
		{"12.50 usd", "USD", "1250"},
		{"CA$5", "CAD", "500"},
	}
	in := make([][2]string, len(cases))
	for i, c := range cases {
		in[i] = [2]string{c.text, c.currency}
	}
	got := harness.Eval[[]string](p.Tab, `import('/amount.js').then((m) => `+harness.JSON(in)+`.map(([text, cur]) => {
		const r = m.parseAmount(text, cur);
		if (r.ambiguous) return 'ambiguous: ' + r.ambiguous.map((x) => String(x.minor)).join(' ');
		return r.error ? 'error: ' + r.error : String(r.minor); }))`)
	for i, c := range cases {
		assert.Equal(t, c.want, got[i], "parseAmount(%q, %s): minor units, error code or both readings", c.text, c.currency)
	}

	shown := harness.Eval[[]string](p.Tab, `import('/amount.js').then((m) => [
		m.formatMinor(1234, 'IQD', 'en-US'), m.formatMinor(1000000, 'COP', 'en-US'), m.formatMinor(5, 'JPY', 'en-US'),
		m.formatMinor(4999, 'USD', 'en-US'), m.formatMinor(12345, 'CLF', 'en-US')])`)
	want := []string{"IQD 1.234", "COP 10,000.00", "¥5", "$49.99", "CLF 1.2345"}
	for i := range want {
		assert.Equal(t, want[i], strings.ReplaceAll(shown[i], "\u00a0", " "), "formatMinor #%d", i)
	}
}

// A till whose lane refunds Colombian pesos: "12,50" is 1250 minor units on the wire and on the receipt.
func TestRefundInACurrencyIntlGetsWrong(t *testing.T) {
	t.Parallel()
	p := openPOS(t, withLane(laneSpec{currency: "COP", maxAmount: 10_000_000}))
	net := p.RecordNetwork()
	assert.Contains(t, p.Text("amount-hint"), "12.50", "an example with two decimals")
	p.refund("12,50")
	p.waitStatus("approved")
	var amounts []int64
	for _, x := range net.Find("") {
		if x.Method == "POST" && strings.Contains(x.URL, "/refund-instructions") {
			var body struct {
				Order struct {
					Amount int64 `json:"amount"`
				} `json:"order"`
			}
			require.NoError(t, json.Unmarshal([]byte(x.RequestBody), &body), "submit body %q", x.RequestBody)
			amounts = append(amounts, body.Order.Amount)
		}
	}
	assert.Equal(t, []int64{1250}, amounts, "one submit of 1250 minor units")
	assert.Contains(t, p.receipt().Amount, "12.50", "COP 12.50 on the receipt")
}
