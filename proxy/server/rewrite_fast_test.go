package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/posrefund/cloud/payroc"
)

var rewriteBodies = []string{
	`{"refundInstructionId":"a","status":"completed","link":{"rel":"refund","method":"GET","href":"https://api.payroc.com/v1/refunds/CD3HN88U9F"}}`,
	`{"refundInstructionId":"a","status":"inProgress","link":{"rel":"self","method":"GET","href":"https://api.payroc.com/v1/refund-instructions/a"}}`,
	`{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","link":{"href":"https://api.payroc.com/v1/refunds/M2MJOG6O2Y"}}`,
	` { "link" : { "href" : "https://api.payroc.com/v1/refunds/X" , "x":[1,{"href":"y"}] } , "extra":{"link":{"href":"https://api.payroc.com/v1/refunds/KEEP"}} } `,
	`{"link":{"href":"x"},"link":{"href":"https://api.payroc.com/v1/refunds/2","href":"https://api.payroc.com/v1/refunds/3"}}`,
	`{"link":{"href":"https://api.payroc.com/v1/payments/M2MJOG6O2Y"}}`,
	`{"link" :{ "href" :"\u0068ttps://x/v1/refunds/1"} }`,
	`{"\u006cink":{"href":"https://api.payroc.com/v1/refunds/1"}}`,
	`{"link":{"hr\u0065f":"https://api.payroc.com/v1/refunds/1"}}`,
	"{\"link\":{\"href\":\"https://api.payroc.com/v1/refunds/\xe2\x82\xac\"}}",
	"{\"link\":{\"href\":\"https://api.payroc.com/v1/refunds/\xff\"}}",
	`{"link":{"href":"https://api.payroc.com/v1/refunds/X"}} trailing`,
	`{"link":{"href":"https://api.payroc.com/v1/refunds/X"}`,
	`{"link":1}`, `{"link":"x"}`, `{"link":{"href":7}}`, `{"link":{"href":null}}`, `{"link":[{"href":"https://api.payroc.com/v1/refunds/X"}]}`,
	``, `[]`, `{}`, `{"a":`, `"x"`, `null`,
}

func rewriteForTest(h string) (string, bool) {
	return linkRewriter{apiPath: "/v1"}.rewrite(h, "https://pos.example")
}

func TestProxyRewriteFastAgreesWithSlow(t *testing.T) {
	for _, body := range rewriteBodies {
		rewriteAgrees(t, []byte(body))
	}
	// The usual answers take the fast way.
	for _, body := range rewriteBodies[:5] {
		if _, ok := rewriteLinkHrefFast([]byte(body), rewriteForTest); !ok || !json.Valid([]byte(body)) {
			t.Errorf("fast way refused %s", body)
		}
	}
}

func FuzzProxyRewriteFastAgrees(f *testing.F) {
	for _, b := range rewriteBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { rewriteAgrees(t, body) })
}

func rewriteAgrees(t *testing.T, body []byte) {
	t.Helper()
	got := rewriteLinkHref(body, rewriteForTest)
	want := rewriteLinkHrefSlow(body, rewriteForTest)
	if !bytes.Equal(got, want) {
		t.Fatalf("%q: fast way gave %q, slow way %q", body, got, want)
	}
}

func BenchmarkProxyRewriteLinkHref(b *testing.B) {
	body := []byte(rewriteBodies[0])
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rewriteLinkHref(body, rewriteForTest)
		}
	})
	b.Run("slow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rewriteLinkHrefSlow(body, rewriteForTest)
		}
	})
}

var instructionBodies = []string{
	`{"refundInstructionId":"a37439165d134678a9100ebba3b29597","status":"completed","link":{"rel":"refund","method":"GET","href":"https://api.payroc.com/v1/refunds/CD3HN88U9F"},"refundId":"CD3HN88U9F","idempotencyKey":"8e03978e-40d5-43e8-bc93-6894a57f9324"}`,
	`{"refundInstructionId":"a","status":"inProgress","link":{"rel":"self","method":"GET","href":"https://api.payroc.com/v1/refund-instructions/a"},"extra":{"status":1}}`,
	`{"refundInstructionId":"a","status":"failure","errorMessage":"Declined","link":null}`,
	`{"refundInstructionId":"a","status":null,"status":"completed","link":{"rel":"x"},"link":{"href":"y"}}`,
	`{"refundInstructionId":"a","status":"completed","link":{"href":"y"},"link":null}`,
	`{"refundInstructionId":"a","Status":"completed"}`,
	`{"refundInstructionId":"a","status":"completed","link":{"HREF":"y"}}`,
	`{"refundInstructionId":"a","ſtatus":"completed"}`,
	`{"refundInstructionId":"a","status":"compl\u0065ted"}`,
	`{"refundInstructionId":"a","st\u0061tus":"completed"}`,
	`{"refundInstructionId":1,"status":"completed"}`,
	`{"refundInstructionId":"a","status":"completed","link":"x"}`,
	`{"refundInstructionId":"a","status":"completed","link":[]}`,
	"{\"refundInstructionId\":\"a\xff\",\"status\":\"completed\"}",
	`{"refundInstructionId":"a","status":"completed"} x`,
	`[]`, `null`, `""`, `{}`, `{"status":"completed"}`, ``, `{`,
}

func TestProxyParseInstructionMatchesEncodingJSON(t *testing.T) {
	for _, b := range instructionBodies {
		parseAgrees(t, []byte(b))
	}
	if _, ok := scanInstruction([]byte(instructionBodies[0])); !ok {
		t.Error("the usual answer did not take the fast way")
	}
}

func FuzzProxyParseInstruction(f *testing.F) {
	for _, b := range instructionBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { parseAgrees(t, body) })
}

func parseAgrees(t *testing.T, body []byte) {
	t.Helper()
	got, valid := parseInstruction(body)
	var want payroc.RefundInstruction
	err := json.Unmarshal(body, &want)
	wantInst := err == nil && want.RefundInstructionID != "" && want.Status != ""
	if valid != json.Valid(body) || (got != nil) != wantInst || (got != nil && !reflect.DeepEqual(*got, want)) {
		t.Fatalf("%q: got %+v (valid %v); encoding/json %+v, %v", body, got, valid, want, err)
	}
}
