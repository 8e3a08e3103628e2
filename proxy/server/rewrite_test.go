package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestProxyRewriteKeepsEveryOtherByte(t *testing.T) {
	in := `{ "refundInstructionId" : "a37439165d134678a9100ebba3b29597",
  "status":"completed","amount":1.50e2,"extra":{"link":{"href":"https://api.payroc.com/v1/refunds/KEEP"}},
  "link" : {"rel":"refund", "method":"GET" ,"href" : "https://api.payroc.com/v1/refunds/CD3HN88U9F","x":[1,2]} }`
	want := strings.Replace(in, `"https://api.payroc.com/v1/refunds/CD3HN88U9F"`, `"https://pos.example/v1/refunds/CD3HN88U9F"`, 1)
	lr := linkRewriter{apiPath: "/v1"}
	got := rewriteLinkHref([]byte(in), func(h string) (string, bool) { return lr.rewrite(h, "https://pos.example") })
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
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
			if (tc.want == "") == ok || got != tc.want {
				t.Fatalf("rewrite(%q) = %q, %v", tc.href, got, ok)
			}
		})
	}
	// Not JSON, or no link: unchanged.
	for _, body := range []string{``, `[]`, `{"link":1}`, `{"a":`, `{"link":{"href":7}}`, `{"status":"inProgress"}`} {
		if got := rewriteLinkHref([]byte(body), func(string) (string, bool) { return "X", true }); string(got) != body {
			t.Errorf("%q became %q", body, got)
		}
	}
}

// FuzzProxyRewriteLinkHref: never panics; changes nothing but link.href; keeps valid JSON valid.
func FuzzProxyRewriteLinkHref(f *testing.F) {
	f.Add([]byte(`{"refundInstructionId":"a","status":"inProgress","link":{"rel":"self","method":"GET","href":"https://api.payroc.com/v1/refund-instructions/a"}}`))
	f.Add([]byte(`{"link":{"href":"x"},"link":{"href":"y"}}`))
	f.Add([]byte(`{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","link":{"href":"https://api.payroc.com/v1/refunds/M2MJOG6O2Y"}}`))
	f.Add([]byte(`{"link" :{ "href" :"\u0068ttps://x/v1/refunds/1"} }`))
	f.Fuzz(func(t *testing.T, body []byte) {
		lr := linkRewriter{apiPath: "/v1"}
		out := rewriteLinkHref(body, func(h string) (string, bool) { return lr.rewrite(h, "https://pos.example") })
		if bytes.Equal(out, body) {
			return
		}
		var a, b map[string]any
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("rewrote invalid JSON %q", body)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("rewrite broke JSON: %q → %q", body, out)
		}
		la, _ := a["link"].(map[string]any)
		lb, _ := b["link"].(map[string]any)
		if la == nil || lb == nil {
			t.Fatalf("rewrote a body without a link object: %q", body)
		}
		delete(la, "href")
		delete(lb, "href")
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("more than link.href changed: %q → %q", body, out)
		}
	})
}

func TestProxyTTLMapIsBoundedAndExpires(t *testing.T) {
	now := time.Now()
	m := newTTLMap[string, int](time.Minute, 3)
	for i, k := range []string{"a", "b", "c", "d"} {
		m.set(k, i, now)
	}
	if _, ok := m.get("a", now); ok || m.len() != 3 {
		t.Fatalf("oldest not evicted: len %d", m.len())
	}
	if v, ok := m.get("d", now); !ok || v != 3 {
		t.Fatal("newest missing")
	}
	m.set("b", 10, now.Add(30*time.Second)) // renewed
	if _, ok := m.get("c", now.Add(61*time.Second)); ok {
		t.Fatal("expired entry returned")
	}
	if v, ok := m.get("b", now.Add(61*time.Second)); !ok || v != 10 {
		t.Fatal("renewed entry expired early")
	}
	m.set("e", 1, now.Add(2*time.Minute))
	if m.len() != 1 {
		t.Fatalf("expired entries kept: len %d", m.len())
	}
}
