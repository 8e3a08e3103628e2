package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The busy loop works until it is told to stop, then returns at once.
func TestSpinRunsUntilCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan uint64, 1)
	go func() { done <- spin(ctx) }()
	select {
	case <-done:
		t.Fatal("spin returned before it was canceled")
	case <-time.After(50 * time.Millisecond): // it must still be running: any wait would do
	}
	cancel()
	select {
	case rounds := <-done:
		assert.Positive(t, rounds, "it spun")
	case <-time.After(time.Minute):
		t.Fatal("spin did not stop within a minute of being canceled")
	}
}

// A busy loop whose parent is gone stops by itself: a killed make never leaves one behind.
func TestWatchParentCancelsWhenOrphaned(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchParent(ctx, cancel, -1, time.Millisecond) // -1 is never a parent: as if it had changed
	}()
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("the watcher never noticed its parent was gone")
	}
	<-done
	require.ErrorIs(t, ctx.Err(), context.Canceled)
}
