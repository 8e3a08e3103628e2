package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			assert.Equal(t, tt.route, r)
			assert.Equal(t, tt.param, p)
			assert.Equal(t, tt.allow, allow)
		})
	}
}

func TestTrimV1(t *testing.T) {
	for in, want := range map[string]string{"/v1/refunds/x": "/refunds/x", "/v1": "/", "/v1x/refunds": "", "/refunds/x": ""} {
		got, ok := TrimV1(in)
		assert.Equal(t, want != "", ok, "TrimV1(%q) ok", in)
		if ok {
			assert.Equal(t, want, got, "TrimV1(%q)", in)
		}
	}
}

func TestWriteProblem(t *testing.T) {
	w := httptest.NewRecorder()
	e := Problem("urn:test", payroc.CodeRateLimited, "slow down")
	e.RetryAfter = 1500 * time.Millisecond
	WriteProblem(w, e)
	require.EqualValues(t, 429, w.Code)
	require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	require.Equal(t, "2", w.Header().Get("Retry-After"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	require.Equal(t, "urn:test#rate-limited", doc["type"], "problem = %v", doc)
	require.EqualValues(t, 429.0, doc["status"], "problem = %v", doc)
	require.Equal(t, "Rate limited", doc["title"], "problem = %v", doc)
	require.Equal(t, "slow down", doc["detail"], "problem = %v", doc)
	back := payroc.ParseProblem(w.Code, payroc.Header{"retry-after": w.Header().Get("Retry-After")}, w.Body.Bytes())
	assert.Equal(t, payroc.CodeRateLimited, back.Code, "parsed back = %+v", back)
	assert.Equal(t, 2*time.Second, back.RetryAfter, "parsed back = %+v", back)
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
		assert.Equal(t, tt.tok, tok, "Bearer(%q) = %q, %v, %v", tt.header, tok, present, ok)
		assert.Equal(t, tt.present, present, "Bearer(%q) = %q, %v, %v", tt.header, tok, present, ok)
		assert.Equal(t, tt.ok, ok, "Bearer(%q) = %q, %v, %v", tt.header, tok, present, ok)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["Authorization"] = []string{"Bearer abc", "Bearer abc"}
	tok, present, ok := Bearer(r)
	assert.True(t, present && !ok && tok == "", "two Authorization headers: Bearer = %q, %v, %v; want refused", tok, present, ok)
}

func TestSecretEqual(t *testing.T) {
	assert.True(t, SecretEqual("sim-api-key", "sim-api-key"), "SecretEqual compares wrongly")
	assert.False(t, SecretEqual("sim-api-kez", "sim-api-key"), "SecretEqual compares wrongly")
	assert.False(t, SecretEqual("", ""), "SecretEqual compares wrongly")
}
