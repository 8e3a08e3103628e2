package server_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/posrefund/cloud/proxy/lane"
	"github.com/posrefund/cloud/proxy/server"
)

// BenchmarkProxyGetRefund is one GET of a refund through the proxy over loopback (lane token check, rate
// limit, object-level scope, forward with the cached Payroc token): the proxy's per-call overhead on top of
// the simulator's.
func BenchmarkProxyGetRefund(b *testing.B) {
	h := newHarness(b, func(_ *sim.Config, c *server.Config) { c.Rate = -1 })
	tok := h.devToken()
	inst, _ := h.mustSubmit(tok, "1850010868", 4999, "")
	refundID := payroc.RefundIDFromLink(h.waitFinal(tok, inst.RefundInstructionID).Link)
	req, _ := http.NewRequest("GET", h.url+"/v1/refunds/"+refundID, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for b.Loop() {
		res, err := h.client.Do(req)
		require.NoError(b, err, "%v %v", res, err)
		require.EqualValues(b, 200, res.StatusCode, "%v %v", res, err)
		res.Body.Close()
	}
}

// memTransport answers upstream calls by calling h in memory: no sockets, so a benchmark sees handler CPU only.
type memTransport struct{ h http.Handler }

func (t memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// memDoer is a payroc.Doer calling h in memory, as a browser's client would over the network.
func memDoer(h http.Handler) payroc.Doer {
	return payroc.DoerFunc(func(ctx context.Context, req *payroc.Request) (*payroc.Response, error) {
		hr := httptest.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
		if req.Body == nil {
			hr.Body, hr.ContentLength = http.NoBody, 0
		}
		for k, v := range req.Header {
			hr.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hr)
		res := rec.Result()
		out := &payroc.Response{StatusCode: res.StatusCode, Header: payroc.Header{}, Body: rec.Body.Bytes()}
		for k, vs := range res.Header {
			out.Header.Set(k, vs[0])
		}
		return out, nil
	})
}

// BenchmarkProxyHandler is P3's unit (a submit, then GETs until final; `make bench` measures it over loopback)
// without sockets: the browser's client, the proxy (or a bare httputil.ReverseProxy) and the simulator call
// each other in memory, so the difference between the two sides is the proxy's own CPU per submit+get, with
// little noise. Use it with -cpuprofile.
func BenchmarkProxyHandler(b *testing.B) {
	s := sim.New(sim.Config{APIKey: testAPIKey, Delay: time.Nanosecond, Hold: 10 * time.Second, Timeout: time.Minute,
		ExtraDevices: 4, MaxInstructions: 1 << 20})
	b.Cleanup(s.Close)
	var devices []server.Device
	for _, d := range s.Devices() {
		devices = append(devices, server.Device{Serial: d.SerialNumber, TerminalID: d.ProcessingTerminalID})
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(b, err)
	b.Cleanup(func() { devNull.Close() })
	up := &http.Client{Transport: memTransport{s}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p, err := server.New(server.Config{APIURL: "http://sim.invalid/v1", IdentityURL: "http://sim.invalid", APIKey: testAPIKey,
		TokenSecrets: [][]byte{[]byte(testSecret)}, Devices: devices, WebDir: b.TempDir(), Rate: 100_000, HTTPClient: up,
		PublicURL: "http://proxy.invalid", // the Host the client calls: production mode answers 421 to any other
		Logger:    slog.New(slog.NewJSONHandler(devNull, &slog.HandlerOptions{Level: slog.LevelInfo})), Version: "bench"})
	require.NoError(b, err)
	b.Cleanup(p.Close)
	u, _ := url.Parse("http://sim.invalid")
	bare := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }, Transport: memTransport{s}}
	keys, _ := lane.NewKeyring([][]byte{[]byte(testSecret)})
	serial, terminal := devices[2].Serial, devices[2].TerminalID
	tok, _, err := keys.Issue(lane.Spec{Lane: "bench-1", Devices: []string{serial}, MaxAmount: 10_000_000, TTL: time.Hour})
	require.NoError(b, err)
	clients := map[string]*payroc.Client{
		"proxy": {BaseURL: "http://proxy.invalid/v1", Doer: memDoer(p), Tokens: payroc.NewStaticToken(tok, nil)},
		"bare": {BaseURL: "http://bare.invalid/v1", Doer: memDoer(bare),
			Tokens: &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: "http://bare.invalid", APIKey: testAPIKey, Doer: memDoer(bare)}).Mint}},
	}
	for _, side := range []string{"proxy", "bare"} {
		b.Run(side, func(b *testing.B) {
			c := clients[side]
			ctx := context.Background()
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				n++
				order := fmt.Sprintf("ORDER-%d", n)
				inst, err := c.Submit(ctx, mustRefund(b, serial, &payroc.RefundInstructionRequest{ProcessingTerminalID: terminal,
					Order:    payroc.RefundOrder{OrderID: order, Description: "Refund for " + order, Amount: 1000, Currency: "USD"},
					Operator: "cashier-1"}, ""))
				for err == nil && !inst.Status.Final() {
					inst, err = c.Instruction(ctx, inst.RefundInstructionID)
				}
				require.NoError(b, err, "%s: %v %v", side, inst, err)
				require.Equal(b, payroc.StatusCompleted, inst.Status, "%s: %v %v", side, inst, err)
			}
		})
	}
}
