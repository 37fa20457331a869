package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// ErrServiceUnavailable marks a tool call that could not reach the memory
// service because it failed to start (the store could not be opened …). It
// is a tool error: the user sees why mnemo is not working.
var ErrServiceUnavailable = errors.New("mnemo's memory service is unavailable")

// Deferred is the Source of a service that is still being opened. The server
// answers initialize, server/discover and the list methods at once; a call
// that needs the service waits for it (or its context). Opening the store
// can take a while (schema set-up, a busy lock, loading the index), and a
// client should never wait for it to connect.
//
// A failed open is not final when Deferred was given an opener (Open): the
// cause is often passing (a full disk, a file another process holds during
// its set-up, a mount not there yet), so it retries in the background with
// backoff, and a call that arrives while the service is unavailable tries
// again at once; the first success is kept for good.
type Deferred struct {
	readyOnce sync.Once
	ready     chan struct{} // closed once the first attempt (or Resolve) has finished

	mu      sync.Mutex
	svc     Memories
	err     error
	open    func(ctx context.Context) (Memories, error)
	ctx     context.Context // of Open: bounds every attempt
	attempt chan struct{}   // non-nil while an attempt runs; closed when it ends
}

// Retry backoff of Open: the first retry after RetryMin, doubling up to RetryMax.
const (
	RetryMin = time.Second
	RetryMax = time.Minute
)

// NewDeferred returns a Deferred waiting for Resolve or Open.
func NewDeferred() *Deferred { return &Deferred{ready: make(chan struct{})} }

// Resolve supplies the service, or the error that prevented opening it,
// for good (no retry). Only the first call counts; it is for a Deferred not
// given an opener.
func (d *Deferred) Resolve(svc Memories, err error) {
	if err == nil && svc == nil {
		err = errors.New("no service")
	}
	d.mu.Lock()
	if d.svc == nil && d.err == nil {
		d.svc, d.err = svc, err
	}
	d.mu.Unlock()
	d.readyOnce.Do(func() { close(d.ready) })
}

// Open starts opening the service with open, in the background, retrying
// after a failure (backoff RetryMin doubling to RetryMax, and at once when a
// call needs the service) until an attempt succeeds or ctx is done. The
// returned channel is closed when the background retrying has stopped: an
// attempt succeeded, or ctx is done and no attempt is running.
func (d *Deferred) Open(ctx context.Context, open func(ctx context.Context) (Memories, error)) <-chan struct{} {
	d.mu.Lock()
	d.open, d.ctx = open, ctx
	d.mu.Unlock()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		wait := RetryMin
		for {
			d.mu.Lock()
			ch := d.startLocked()
			d.mu.Unlock()
			<-ch // attempts end on their own once ctx is done
			d.mu.Lock()
			ok := d.svc != nil
			d.mu.Unlock()
			if ok {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, RetryMax)
		}
	}()
	return stopped
}

// startLocked starts an attempt unless one is running, and returns the
// channel closed when it ends. d.mu is held.
func (d *Deferred) startLocked() chan struct{} {
	if d.attempt != nil {
		return d.attempt
	}
	ch := make(chan struct{})
	d.attempt = ch
	open, ctx := d.open, d.ctx
	go func() {
		svc, err := open(ctx)
		if err == nil && svc == nil {
			err = errors.New("no service")
		}
		d.mu.Lock()
		if d.svc == nil { // never replace a service once there is one
			d.svc, d.err = svc, err
		}
		d.attempt = nil
		d.mu.Unlock()
		close(ch)
		d.readyOnce.Do(func() { close(d.ready) })
	}()
	return ch
}

// Service returns the service, waiting for it to be opened (or for ctx).
// When the last attempt failed it tries again at once (with an opener);
// the error wraps ErrServiceUnavailable and says why.
func (d *Deferred) Service(ctx context.Context) (Memories, error) {
	select {
	case <-d.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d.mu.Lock()
	if d.svc != nil || d.open == nil || d.ctx.Err() != nil {
		svc, err := d.svc, d.err
		d.mu.Unlock()
		return d.result(svc, err)
	}
	// The last attempt failed: try again now rather than at the next
	// backoff step; the cause may be gone.
	ch := d.startLocked()
	d.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d.mu.Lock()
	svc, err := d.svc, d.err
	d.mu.Unlock()
	return d.result(svc, err)
}

func (d *Deferred) result(svc Memories, err error) (Memories, error) {
	if svc != nil {
		return svc, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrServiceUnavailable, err)
}

// ModelStatus reports not-ready (or the open error) until the service is there.
func (d *Deferred) ModelStatus() service.ModelStatus {
	select {
	case <-d.ready:
	default:
		return service.ModelStatus{}
	}
	d.mu.Lock()
	svc, err := d.svc, d.err
	d.mu.Unlock()
	if svc == nil {
		return service.ModelStatus{Error: err.Error()}
	}
	return svc.ModelStatus()
}
