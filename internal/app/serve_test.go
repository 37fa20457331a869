package app

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestServerModelWait(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{3 * time.Second: 3 * time.Second, 500 * time.Millisecond: 500 * time.Millisecond, 0: -1} {
		if got := serverModelWait(in); got != want {
			t.Errorf("%v: %v, want %v", in, got, want)
		}
	}
}

// The server stops when its parent goes away (the poll sees a new ppid).
func TestWatchParent(t *testing.T) {
	var parent atomic.Int64
	parent.Store(4242)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		watchParent(ctx, cancel, 4242, func() int { return int(parent.Load()) }, time.Millisecond)
		close(done)
	}()
	parent.Store(1) // re-parented to init: the parent died
	<-done
	if context.Cause(ctx) != ErrParentGone {
		t.Fatalf("cause = %v, want ErrParentGone", context.Cause(ctx))
	}
	// Already orphaned at start: nothing to watch, returns at once.
	watchParent(context.Background(), func(error) { t.Error("cancelled") }, 1, func() int { return 1 }, time.Millisecond)
}
