package mcp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// ErrServiceUnavailable marks a tool call that could not reach the memory
// service because it failed to start (the store could not be opened …). It
// is a tool error: the user sees why mnemo is not working.
var ErrServiceUnavailable = errors.New("mnemo's memory service is unavailable")

// Deferred is a Memories whose service is still being opened. The server
// answers initialize, server/discover and the list methods at once; a call
// that needs the service waits for Resolve (or its context). Opening the
// store can take a while (schema set-up, a busy lock, loading the index),
// and a client should never wait for it to connect.
type Deferred struct {
	once  sync.Once
	ready chan struct{}
	svc   Memories
	err   error
}

// NewDeferred returns a Deferred waiting for Resolve.
func NewDeferred() *Deferred { return &Deferred{ready: make(chan struct{})} }

// Resolve supplies the service, or the error that prevented opening it.
// Only the first call counts.
func (d *Deferred) Resolve(svc Memories, err error) {
	d.once.Do(func() {
		if err == nil && svc == nil {
			err = errors.New("no service")
		}
		d.svc, d.err = svc, err
		close(d.ready)
	})
}

func (d *Deferred) get(ctx context.Context) (Memories, error) {
	select {
	case <-d.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrServiceUnavailable, d.err)
	}
	return d.svc, nil
}

func (d *Deferred) Remember(ctx context.Context, req service.RememberRequest) (service.RememberResult, error) {
	s, err := d.get(ctx)
	if err != nil {
		return service.RememberResult{}, err
	}
	return s.Remember(ctx, req)
}

func (d *Deferred) Recall(ctx context.Context, req service.RecallRequest) (service.RecallResult, error) {
	s, err := d.get(ctx)
	if err != nil {
		return service.RecallResult{}, err
	}
	return s.Recall(ctx, req)
}

func (d *Deferred) Forget(ctx context.Context, ids []string) (service.ForgetResult, error) {
	s, err := d.get(ctx)
	if err != nil {
		return service.ForgetResult{}, err
	}
	return s.Forget(ctx, ids)
}

func (d *Deferred) List(ctx context.Context, req service.ListRequest) ([]memory.Memory, error) {
	s, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	return s.List(ctx, req)
}

func (d *Deferred) Get(ctx context.Context, id string) (memory.Memory, error) {
	s, err := d.get(ctx)
	if err != nil {
		return memory.Memory{}, err
	}
	return s.Get(ctx, id)
}

func (d *Deferred) Embed(ctx context.Context, texts []string) (service.EmbedResult, error) {
	s, err := d.get(ctx)
	if err != nil {
		return service.EmbedResult{}, err
	}
	return s.Embed(ctx, texts)
}

func (d *Deferred) Similarity(ctx context.Context, query string, candidates []string) (service.SimilarityResult, error) {
	s, err := d.get(ctx)
	if err != nil {
		return service.SimilarityResult{}, err
	}
	return s.Similarity(ctx, query, candidates)
}

// ModelStatus reports not-ready (or the open error) until the service is there.
func (d *Deferred) ModelStatus() service.ModelStatus {
	select {
	case <-d.ready:
	default:
		return service.ModelStatus{}
	}
	if d.err != nil {
		return service.ModelStatus{Error: d.err.Error()}
	}
	return d.svc.ModelStatus()
}
