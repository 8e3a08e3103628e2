package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
)

func rewriteForTest(h string) (string, bool) {
	return linkRewriter{apiPath: "/v1"}.rewrite(h, "https://pos.example")
}

func TestProxyRewriteKeepsEveryOtherByte(t *testing.T) {
	in := `{ "refundInstructionId" : "a37439165d134678a9100ebba3b29597",
  "status":"completed","amount":1.50e2,"extra":{"link":{"href":"https://api.payroc.com/v1/refunds/KEEP"}},
  "link" : {"rel":"refund", "method":"GET" ,"href" : "https://api.payroc.com/v1/refunds/CD3HN88U9F","x":[1,2]} }`
	want := strings.Replace(in, `"https://api.payroc.com/v1/refunds/CD3HN88U9F"`, `"https://pos.example/v1/refunds/CD3HN88U9F"`, 1)
	assert.Equal(t, want, string(rewriteLinkHref([]byte(in), rewriteForTest)))
}

func TestProxyRewriteLinks(t *testing.T) {
	for _, tc := range []struct {
		name, apiPath, href, want string
	}{
		{"payroc", "/v1", "https://api.payroc.com/v1/refund-instructions/abc", "https://pos.example/v1/refund-instructions/abc"},
		{"refund", "/v1", "https://api.uat.payroc.com/v1/refunds/CD3HN88U9F", "https://pos.example/v1/refunds/CD3HN88U9F"},
		{"upstream under a prefix", "/payroc/v1", "http://10.0.0.5/payroc/v1/refunds/X", "https://pos.example/v1/refunds/X"},
		{"upstream at its root", "/v1", "http://sim.local/refunds/X", "https://pos.example/v1/refunds/X"},
		{"query kept", "/v1", "https://api.payroc.com/v1/refunds/X?a=1", "https://pos.example/v1/refunds/X?a=1"},
		{"escaped id", "/v1", "https://api.payroc.com/v1/refunds/a%20b", "https://pos.example/v1/refunds/a%20b"},
		{"not a proxied route", "/v1", "https://api.payroc.com/v1/payments/M2MJOG6O2Y", ""},
		{"not a URL", "/v1", "::", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := linkRewriter{apiPath: tc.apiPath}.rewrite(tc.href, "https://pos.example")
			assert.Equal(t, tc.want != "", ok, "rewritten")
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestProxyRewriteLinkHrefBodies(t *testing.T) {
	const up, px = "https://api.payroc.com/v1/refunds/X", "https://pos.example/v1/refunds/X"
	for _, tc := range []struct{ name, in, want string }{ // want "" means unchanged
		{"instruction", `{"refundInstructionId":"a","status":"completed","link":{"rel":"refund","method":"GET","href":"` + up + `"}}`,
			`{"refundInstructionId":"a","status":"completed","link":{"rel":"refund","method":"GET","href":"` + px + `"}}`},
		{"409 problem", `{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","link":{"href":"` + up + `"}}`,
			`{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","link":{"href":"` + px + `"}}`},
		{"escaped names", `{"\u006cink":{"hr\u0065f":"` + up + `"}}`, `{"\u006cink":{"hr\u0065f":"` + px + `"}}`},
		{"escaped href", `{"link":{"href":"\u0068ttps://api.payroc.com/v1/refunds/X"}}`, `{"link":{"href":"` + px + `"}}`},
		{"nested links stay", `{"extra":{"link":{"href":"` + up + `"}},"link":{"x":[{"href":"y"}]}}`, ""},
		{"not a proxied route", `{"link":{"href":"https://api.payroc.com/v1/payments/M2MJOG6O2Y"}}`, ""},
		{"two links", `{"link":{"href":"x"},"link":{"href":"` + up + `"}}`, ""},
		{"two hrefs", `{"link":{"href":"` + up + `","href":"` + up + `"}}`, ""},
		{"invalid UTF-8", "{\"link\":{\"href\":\"" + up + "\xff\"}}", ""},
		{"trailing text", `{"link":{"href":"` + up + `"}} x`, ""},
		{"cut short", `{"link":{"href":"` + up + `"}`, ""},
		{"link not an object", `{"link":1}`, ""},
		{"href not a string", `{"link":{"href":7}}`, ""},
		{"null href", `{"link":{"href":null}}`, ""},
		{"array of links", `{"link":[{"href":"` + up + `"}]}`, ""},
		{"no link", `{"status":"inProgress"}`, ""},
		{"empty", ``, ""},
		{"array", `[]`, ""},
		{"not JSON", `{"a":`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = tc.in
			}
			assert.Equal(t, want, string(rewriteLinkHref([]byte(tc.in), rewriteForTest)))
		})
	}
}

// FuzzProxyRewriteLinkHref: never panics; changes nothing but link.href; keeps valid JSON valid.
func FuzzProxyRewriteLinkHref(f *testing.F) {
	f.Add([]byte(`{"refundInstructionId":"a","status":"inProgress","link":{"rel":"self","method":"GET","href":"https://api.payroc.com/v1/refund-instructions/a"}}`))
	f.Add([]byte(`{"link":{"href":"x"},"link":{"href":"y"}}`))
	f.Add([]byte(`{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","link":{"href":"https://api.payroc.com/v1/refunds/M2MJOG6O2Y"}}`))
	f.Add([]byte(`{"link" :{ "href" :"\u0068ttps://x/v1/refunds/1"} }`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := rewriteLinkHref(body, rewriteForTest)
		if string(out) == string(body) {
			return
		}
		var a, b map[string]any
		require.NoError(t, json.Unmarshal(body, &a), "rewrote invalid JSON %q", body)
		require.NoError(t, json.Unmarshal(out, &b), "the rewrite broke JSON: %q -> %q", body, out)
		la, _ := a["link"].(map[string]any)
		lb, _ := b["link"].(map[string]any)
		require.NotNil(t, la, "rewrote a body without a link object: %q", body)
		require.NotNil(t, lb)
		delete(la, "href")
		delete(lb, "href")
		require.Equal(t, a, b, "more than link.href changed: %q -> %q", body, out)
	})
}

func BenchmarkProxyRewriteLinkHref(b *testing.B) {
	body := []byte(`{"refundInstructionId":"a37439165d134678a9100ebba3b29597","status":"completed","link":{"rel":"refund","method":"GET","href":"https://api.payroc.com/v1/refunds/CD3HN88U9F"}}`)
	b.ReportAllocs()
	for b.Loop() {
		rewriteLinkHref(body, rewriteForTest)
	}
}

func TestProxyParseInstruction(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       *payroc.RefundInstruction
	}{
		{"completed", `{"refundInstructionId":"a","status":"completed","link":{"rel":"refund","method":"GET","href":"https://api.payroc.com/v1/refunds/CD3HN88U9F"},"extra":{"status":1}}`,
			&payroc.RefundInstruction{RefundInstructionID: "a", Status: payroc.StatusCompleted, Link: &payroc.Link{Rel: "refund", Method: "GET", Href: "https://api.payroc.com/v1/refunds/CD3HN88U9F"}}},
		{"failure", `{"refundInstructionId":"a","status":"failure","errorMessage":"Declined","link":null}`,
			&payroc.RefundInstruction{RefundInstructionID: "a", Status: payroc.StatusFailure, ErrorMessage: "Declined"}},
		{"escaped value", `{"refundInstructionId":"a","status":"compl\u0065ted"}`, &payroc.RefundInstruction{RefundInstructionID: "a", Status: payroc.StatusCompleted}},
		{"repeated status", `{"refundInstructionId":"a","status":"inProgress","status":"completed"}`, nil},
		{"other-case name", `{"refundInstructionId":"a","Status":"completed"}`, nil},
		{"Unicode case fold", `{"refundInstructionId":"a","ſtatus":"completed"}`, nil},
		{"invalid UTF-8", "{\"refundInstructionId\":\"a\xff\",\"status\":\"completed\"}", nil},
		{"id a number", `{"refundInstructionId":1,"status":"completed"}`, nil},
		{"link a string", `{"refundInstructionId":"a","status":"completed","link":"x"}`, nil},
		{"no status", `{"refundInstructionId":"a"}`, nil},
		{"trailing text", `{"refundInstructionId":"a","status":"completed"} x`, nil},
		{"problem", `{"type":"https://docs.payroc.com/api/errors#not-found","status":404}`, nil},
		{"empty", ``, nil},
		{"array", `[]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, parseInstruction([]byte(tc.body)))
		})
	}
}

// FuzzProxyParseInstruction: what the proxy takes for an instruction, the browser's reader (encoding/json)
// reads the same, so the proxy's guard and audit follow the status the page sees.
func FuzzProxyParseInstruction(f *testing.F) {
	for _, b := range []string{
		`{"refundInstructionId":"a37439165d134678a9100ebba3b29597","status":"completed","link":{"rel":"refund","method":"GET","href":"https://api.payroc.com/v1/refunds/CD3HN88U9F"},"refundId":"CD3HN88U9F"}`,
		`{"refundInstructionId":"a","status":null,"status":"completed","link":{"rel":"x"},"link":{"href":"y"}}`,
		`{"refundInstructionId":"a","Status":"completed"}`, `{"refundInstructionId":"a","st\u0061tus":"completed"}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := parseInstruction(body)
		if got == nil {
			return
		}
		var want payroc.RefundInstruction
		require.NoError(t, json.Unmarshal(body, &want), "encoding/json refuses an answer the proxy read: %q", body)
		require.Equal(t, want, *got, "encoding/json reads %q otherwise", body)
	})
}
