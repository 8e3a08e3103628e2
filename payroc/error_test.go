package payroc

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProblem(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     Header
		body       string
		code       string
		retryable  bool
		retryAfter time.Duration
		refundLink string
	}{
		{"payroc 400 with fields", 400, nil,
			`{"type":"https://docs.payroc.com/api/errors#bad-request","title":"Bad request","status":400,"detail":"One or more validation errors occurred","errors":[{"parameter":"order.amount","message":"must be positive"}]}`,
			CodeBadRequest, false, 0, ""},
		{"409 with refund link", 409, nil,
			`{"type":"https://docs.payroc.com/api/errors#cannot-be-canceled","title":"Cannot be canceled","status":409,"detail":"You cannot cancel this resource in its current state","errors":[{"parameter":"refundInstructionId","message":"Completed instruction cannot be canceled"}],"link":{"rel":"refund","method":"GET","href":"https://api.payroc.com/v1/refunds/M2MJOG6O2Y"}}`,
			CodeCannotBeCanceled, false, 0, "M2MJOG6O2Y"},
		{"proxy slug", 409, nil, `{"type":"urn:x#device-busy","title":"Device busy","status":409,"detail":"busy"}`, CodeDeviceBusy, false, 0, ""},
		{"429 with Retry-After", 429, Header{"retry-after": "3"}, `{"type":"x#rate-limited","title":"t","status":429}`, CodeRateLimited, true, 3 * time.Second, ""},
		{"500 api-error", 500, nil, `{"type":"https://docs.payroc.com/api/errors#api-error","title":"Api error","status":500,"detail":"d","errors":[{"message":"Service offline"}]}`, CodeAPIError, true, 0, ""},
		{"plain text 502", 502, nil, "Bad Gateway", CodeUpstreamError, true, 0, ""},
		{"empty 503", 503, nil, "", "service-unavailable", true, 0, ""},
		{"html 404", 404, nil, "<html>not here</html>", CodeNotFound, false, 0, ""},
		{"type without fragment", 403, nil, `{"type":"https://example.test/problems/forbidden","title":"Forbidden","status":403}`, CodeForbidden, false, 0, ""},
		{"about:blank", 418, nil, `{"type":"about:blank","title":"teapot","status":418}`, "http-418", false, 0, ""},
		{"501 is final", 501, nil, ``, CodeServerError, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseProblem(tt.status, tt.header, []byte(tt.body))
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.retryable, e.Retryable())
			assert.Equal(t, tt.retryAfter, e.RetryAfter)
			got := RefundIDFromLink(e.Link)
			assert.Equal(t, tt.refundLink, got)
			if e.Error() == "" || e.Title == "" && TitleForCode(e.Code) != "" {
				t.Errorf("Error() = %q, Title = %q", e.Error(), e.Title)
			}
		})
	}
}

func TestErrorMatching(t *testing.T) {
	err := error(ParseProblem(404, nil, []byte(`{"type":"https://docs.payroc.com/api/errors#not-found","title":"Not found","status":404,"resource":"refundInstruction"}`)))
	wrapped := errors.Join(errors.New("watching"), err)
	require.ErrorIs(t, wrapped, ErrNotFound, "errors.Is does not match by code")
	require.NotErrorIs(t, wrapped, ErrCannotBeCanceled, "errors.Is does not match by code")
	var e *Error
	require.True(t, errors.As(wrapped, &e), "errors.As lost the problem: %+v", e)
	require.Equal(t, "refundInstruction", e.Resource, "errors.As lost the problem: %+v", e)
	assert.Equal(t, CodeInternalError, AsError(errors.New("boom")).Code, "AsError of a plain error is not internal-error")
}

func TestErrorMarshalsProblem(t *testing.T) {
	e := NewError(CodeDeviceBusy, "Another refund is running on 1850010868")
	b, err := json.Marshal(e)
	require.NoError(t, err)
	back := ParseProblem(409, nil, b)
	assert.Equal(t, CodeDeviceBusy, back.Code, "round trip = %+v", back)
	assert.Equal(t, e.Detail, back.Detail, "round trip = %+v", back)
	assert.Equal(t, "Device busy", back.Title, "round trip = %+v", back)
	assert.EqualValues(t, 409, back.Status, "round trip = %+v", back)
}

func TestCodesMapBothWays(t *testing.T) {
	for code, status := range codeStatus {
		if status == 0 {
			continue
		}
		assert.NotEmpty(t, TitleForCode(code), "code %q has no title", code)
	}
	for status, code := range statusCode {
		if s := StatusForCode(code); s != 0 && s != status {
			t.Errorf("CodeForStatus(%d) = %q, whose status is %d", status, code, s)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "0": 0, "-1": 0, "120": 2 * time.Minute, "soon": 0,
		now.Add(90 * time.Second).Format(time.RFC1123): 90 * time.Second,
		now.Add(-time.Minute).Format(time.RFC1123):     0,
	} {
		got := parseRetryAfter(v, now)
		assert.Equal(t, want, got)
	}
}

func FuzzParseProblem(f *testing.F) {
	f.Add(400, []byte(`{"type":"https://docs.payroc.com/api/errors#bad-request","title":"Bad request","status":400,"errors":[{"parameter":"x"}]}`))
	f.Add(409, []byte(`{"type":"#","link":{"rel":"refund","href":"/"}}`))
	f.Add(500, []byte(`not json`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := ParseProblem(status, Header{"retry-after": "1"}, body)
		require.NotNil(t, e, "ParseProblem(%d, %q) = %+v", status, body, e)
		require.NotEmpty(t, e.Code, "ParseProblem(%d, %q) = %+v", status, body, e)
		require.Equal(t, status, e.Status, "ParseProblem(%d, %q) = %+v", status, body, e)
		_ = e.Error()
		_ = RefundIDFromLink(e.Link)
		_, err := json.Marshal(e)
		require.NoError(t, err, "marshal: %v", err)
	})
}

func TestNothingCreated(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"bad request", ParseProblem(400, Header{}, []byte(`{"type":"https://docs.payroc.com/api/errors#bad-request","status":400}`)), true},
		{"expired lane token", NewError(CodeLaneTokenExpired, ""), true},
		{"revoked lane token", NewError(CodeLaneTokenRevoked, ""), true},
		{"Payroc refused the bearer", ParseProblem(401, Header{}, nil), true},
		{"out of scope", NewError(CodeOutOfScope, ""), true},
		{"not found", NewError(CodeNotFound, ""), true},
		{"rate limited", NewError(CodeRateLimited, ""), true},
		{"payload too large", NewError(CodePayloadTooLarge, ""), true},
		{"device busy (the proxy's, before forwarding)", NewError(CodeDeviceBusy, ""), true},
		{"identity unavailable (no bearer, nothing sent)", NewError(CodeIdentityUnavailable, ""), true},
		{"idempotency key in use (an instruction is being made)", NewError(CodeIdempotencyKeyInUse, ""), false},
		{"a 409 without a problem", ParseProblem(409, Header{}, nil), false},
		{"request timeout", ParseProblem(408, Header{}, nil), false},
		{"upstream error", NewError(CodeUpstreamError, ""), false},
		{"upstream timeout", NewError(CodeUpstreamTimeout, ""), false},
		{"state unavailable (Payroc may have answered before the state failed)", NewError(CodeStateUnavailable, ""), false},
		{"service unavailable", ParseProblem(503, Header{}, nil), false},
		{"api error", ParseProblem(500, Header{}, nil), false},
		{"no answer", &Error{Code: CodeNetworkError}, false},
		{"no token from getToken", NewError(CodeTokenUnavailable, ""), false},
		{"a 2xx is no proof of anything not made", &Error{Status: 200}, false},
		{"not an *Error", context.Canceled, false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, NothingCreated(tc.err))
		})
	}
}
