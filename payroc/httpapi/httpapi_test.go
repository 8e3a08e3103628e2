package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		method, path string
		route        Route
		param, allow string
	}{
		{"POST", "/devices/1850010868/refund-instructions", RouteSubmit, "1850010868", ""},
		{"GET", "/devices/1850010868/refund-instructions", RouteNone, "1850010868", "POST"},
		{"GET", "/refund-instructions/a37439165d134678a9100ebba3b29597", RouteGetInstruction, "a37439165d134678a9100ebba3b29597", ""},
		{"DELETE", "/refund-instructions/abc", RouteCancelInstruction, "abc", ""},
		{"PUT", "/refund-instructions/abc", RouteNone, "abc", "GET, DELETE"},
		{"GET", "/refunds/CD3HN88U9F", RouteGetRefund, "CD3HN88U9F", ""},
		{"POST", "/refunds/CD3HN88U9F", RouteNone, "CD3HN88U9F", "GET"},
		{"POST", "/refunds", RouteNone, "", ""},
		{"GET", "/refund-instructions/a/b", RouteNone, "", ""},
		{"GET", "/refund-instructions/%zz", RouteNone, "", ""},
		{"GET", "/payments/abc", RouteNone, "", ""},
		{"POST", "/devices//refund-instructions", RouteNone, "", ""},
		{"GET", "/refunds/a%2Fb", RouteGetRefund, "a/b", ""}, // unescaped: callers must validate ids
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r, p, allow := Match(tt.method, tt.path)
			if r != tt.route || p != tt.param || allow != tt.allow {
				t.Errorf("Match = %v, %q, %q; want %v, %q, %q", r, p, allow, tt.route, tt.param, tt.allow)
			}
		})
	}
}

func TestTrimV1(t *testing.T) {
	for in, want := range map[string]string{"/v1/refunds/x": "/refunds/x", "/v1": "/", "/v1x/refunds": "", "/refunds/x": ""} {
		got, ok := TrimV1(in)
		if (want != "") != ok || ok && got != want {
			t.Errorf("TrimV1(%q) = %q, %v", in, got, ok)
		}
	}
}

func TestWriteProblem(t *testing.T) {
	w := httptest.NewRecorder()
	e := Problem("urn:test", payroc.CodeRateLimited, "slow down")
	e.RetryAfter = 1500 * time.Millisecond
	WriteProblem(w, e)
	if w.Code != 429 || w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, headers %v", w.Code, w.Header())
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["type"] != "urn:test#rate-limited" || doc["status"] != 429.0 || doc["title"] != "Rate limited" || doc["detail"] != "slow down" {
		t.Errorf("problem = %v", doc)
	}
	back := payroc.ParseProblem(w.Code, payroc.Header{"retry-after": w.Header().Get("Retry-After")}, w.Body.Bytes())
	if back.Code != payroc.CodeRateLimited || back.RetryAfter != 2*time.Second {
		t.Errorf("parsed back = %+v", back)
	}
}

func TestBearer(t *testing.T) {
	for _, tt := range []struct {
		header, tok string
		present, ok bool
	}{
		{"", "", false, false},
		{"Bearer abc", "abc", true, true},
		{"bearer  abc ", "abc", true, true},
		{"Basic abc", "", true, false},
		{"Bearer", "", true, false},
		{"Bearer ", "", true, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		tok, present, ok := Bearer(r)
		if tok != tt.tok || present != tt.present || ok != tt.ok {
			t.Errorf("Bearer(%q) = %q, %v, %v", tt.header, tok, present, ok)
		}
	}
}

func TestSecretEqual(t *testing.T) {
	if !SecretEqual("sim-api-key", "sim-api-key") || SecretEqual("sim-api-kez", "sim-api-key") || SecretEqual("", "") {
		t.Error("SecretEqual compares wrongly")
	}
}
