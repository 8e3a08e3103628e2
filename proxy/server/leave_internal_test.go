package server

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Leaving ends the long-polls waiting on every shard of leaveCtx, each with errLeaving as its cause, and
// none before.
func TestLeavingEndsPollsOnEveryShard(t *testing.T) {
	s := &Server{cfg: Config{PollTimeout: time.Hour}}
	s.initLeave()
	var ctxs []context.Context
	for range 2*leaveShardCount + 1 {
		ctx, cancel := s.pollContext(httptest.NewRequest("GET", "/v1/refund-instructions/x", nil))
		t.Cleanup(cancel)
		ctxs = append(ctxs, ctx)
	}
	for i, ctx := range ctxs {
		require.NoError(t, ctx.Err(), "poll %d ended before leaving", i)
	}
	s.leaveNow()
	for i, ctx := range ctxs {
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("poll %d (shard %d) still open 10 s after leaving", i, (i+1)%leaveShardCount)
		}
		require.ErrorIs(t, context.Cause(ctx), errLeaving, "poll %d (shard %d)", i, (i+1)%leaveShardCount)
	}
}
