package sim_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
	"github.com/stretchr/testify/require"
)

// BenchmarkSubmit measures one authenticated, validated submit through the handler (no network), with the
// memory cap evicting finished instructions as it goes.
func BenchmarkSubmit(b *testing.B) {
	s := sim.New(sim.Config{Delay: time.Hour, MaxInstructions: 10_000})
	defer s.Close()
	rec := httptest.NewRecorder()
	auth := httptest.NewRequest("POST", "/authorize", nil)
	auth.Header.Set("x-api-key", s.APIKey())
	s.ServeHTTP(rec, auth)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &tr)
	bd := body(4999)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/v1/devices/1850010868/refund-instructions", strings.NewReader(bd))
			req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", payroc.NewIdempotencyKey())
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			require.EqualValues(b, 202, rec.Code, "%d %s", rec.Code, rec.Body)
			var ri payroc.RefundInstruction
			_ = json.Unmarshal(rec.Body.Bytes(), &ri)
			_ = s.Finish(ri.RefundInstructionID, payroc.StatusCompleted)
		}
	})
}
