package server_test

import (
	"net/http"
	"testing"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
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
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%v %v", res, err)
		}
		res.Body.Close()
	}
}
