package bench

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/internal/httpapi"
	"github.com/posrefund/cloud/payroc"
)

func TestRandomFaultCoversEveryKind(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[faultKind]bool{}
	for range 500 {
		f := randomFault(rng)
		seen[f.kind] = true
		if f.kind == faultLaneExpired && (f.layer != layerFront || f.route != httpapi.RouteGetInstruction) {
			t.Fatalf("lane expiry must hit the front hop's status GET: %v", f)
		}
		if (f.kind == faultStatus || f.kind == faultUnauthorized || f.kind == faultIdentityDown || f.kind == faultSlow) && f.layer != layerUpstream {
			t.Fatalf("%v must be on the upstream hop", f)
		}
	}
	for k := range faultNames {
		if !seen[k] {
			t.Errorf("fault %v never drawn in 500 draws", k)
		}
	}
}

// An upstream that answers a submit with an instruction, and its status GET, behind the injector.
func injectedServer(t *testing.T, in *injector, l layer) *httptest.Server {
	t.Helper()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(payroc.RefundInstruction{RefundInstructionID: "a1b2c3", Status: payroc.StatusInProgress})
	})
	srv := httptest.NewServer(in.wrap(l, api))
	t.Cleanup(srv.Close)
	return srv
}

func submit(t *testing.T, url, key string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/v1/devices/1850010868/refund-instructions", strings.NewReader(`{}`))
	req.Header.Set("Idempotency-Key", key)
	return http.DefaultClient.Do(req)
}

func TestInjectorFiresOncePerRefund(t *testing.T) {
	tests := []struct {
		name     string
		fault    *fault
		firstErr bool // the first attempt gets no answer
		status   int  // else the status it gets
	}{
		{"reset before", &fault{kind: faultResetBefore, layer: layerUpstream, route: httpapi.RouteSubmit}, true, 0},
		{"reset after", &fault{kind: faultResetAfter, layer: layerUpstream, route: httpapi.RouteSubmit}, true, 0},
		{"5xx", &fault{kind: faultStatus, layer: layerUpstream, route: httpapi.RouteSubmit, status: 503}, false, 503},
		{"401", &fault{kind: faultUnauthorized, layer: layerUpstream, route: httpapi.RouteSubmit}, false, 401},
		{"other hop untouched", &fault{kind: faultResetBefore, layer: layerFront, route: httpapi.RouteSubmit}, false, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := newInjector()
			srv := injectedServer(t, in, layerUpstream)
			key := payroc.NewIdempotencyKey()
			in.plan(key, tc.fault)
			res, err := submit(t, srv.URL, key)
			if tc.firstErr {
				if err == nil {
					res.Body.Close()
					t.Fatalf("want a reset, got %s", res.Status)
				}
			} else {
				require.NoError(t, err)
				res.Body.Close()
				require.Equal(t, tc.status, res.StatusCode)
			}
			// The retry goes through, and another refund's traffic is never touched.
			for _, k := range []string{key, payroc.NewIdempotencyKey()} {
				res, err := submit(t, srv.URL, k)
				require.NoError(t, err, "retry: %v", err)
				res.Body.Close()
				require.EqualValues(t, 200, res.StatusCode, "retry: status %d", res.StatusCode)
			}
		})
	}
}

func TestInjectorFindsStatusGETByLearnedID(t *testing.T) {
	in := newInjector()
	srv := injectedServer(t, in, layerUpstream)
	key := payroc.NewIdempotencyKey()
	in.plan(key, &fault{kind: faultStatus, layer: layerUpstream, route: httpapi.RouteGetInstruction, status: 502})
	res, err := submit(t, srv.URL, key)
	require.NoError(t, err)
	res.Body.Close()
	res, err = http.Get(srv.URL + "/v1/refund-instructions/a1b2c3")
	require.NoError(t, err)
	res.Body.Close()
	require.EqualValues(t, 502, res.StatusCode)
	got := in.firedCounts()[faultStatus]
	require.EqualValues(t, 1, got)
}

func TestInjectorIdentityDownWindow(t *testing.T) {
	in := newInjector()
	srv := injectedServer(t, in, layerUpstream)
	key := payroc.NewIdempotencyKey()
	in.plan(key, &fault{kind: faultIdentityDown, layer: layerUpstream, route: httpapi.RouteSubmit, delay: 1 << 40})
	res, err := submit(t, srv.URL, key)
	require.NoError(t, err)
	res.Body.Close()
	require.EqualValues(t, 401, res.StatusCode)
	res, err = http.Post(srv.URL+"/authorize", "", nil)
	require.NoError(t, err)
	res.Body.Close()
	require.EqualValues(t, 503, res.StatusCode)
}

func TestLeaksFindsSecretsOnly(t *testing.T) {
	got := leaks(
		map[string]string{"api key": "bench-api-key-0123456789abcdef", "short": "abc"},
		map[string]string{"logs": `{"msg":"x","key":"bench-api-key-0123456789abcdef"}`, "page": "abc nothing"},
	)
	require.Len(t, got, 1, "leaks = %q", got)
	require.Equal(t, "api key in logs", got[0], "leaks = %q", got)
}
