package embed

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// keepAlive tracks use of the model so an idle engine can release it.
type keepAlive struct {
	lastUse  atomic.Int64 // unix nanos of the last call's start or end
	inflight atomic.Int64 // calls holding the model
	loads    atomic.Int64
	unloads  atomic.Int64

	mu     sync.Mutex
	timer  *time.Timer
	reload sync.Mutex // one reload at a time
}

func (k *keepAlive) touch() { k.lastUse.Store(time.Now().UnixNano()) }

func (k *keepAlive) idle() time.Duration {
	return time.Since(time.Unix(0, k.lastUse.Load()))
}

func (k *keepAlive) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.timer != nil {
		k.timer.Stop()
	}
}

// Stats describes the engine's model residency, for status output and tests.
type Stats struct {
	Loaded    bool          // the model's weights are in memory now
	Loads     int64         // loads so far (the first one included)
	Unloads   int64         // keep-alive unloads so far
	Idle      time.Duration // since the last call started or ended
	KeepAlive time.Duration // 0 = never unloads
}

// Stats reports whether the model is in memory and how often it was
// loaded and released.
func (e *Engine) Stats() Stats {
	s := Stats{KeepAlive: e.o.KeepAlive, Loads: e.ka.loads.Load(), Unloads: e.ka.unloads.Load()}
	if s.Loads > 0 {
		s.Idle = e.ka.idle()
	}
	s.Loaded = e.Loaded()
	return s
}

// Loaded reports whether the model is in memory right now: false before the
// first load finishes, after Close, and while a keep-alive unload has
// released it (Ready is still true then).
func (e *Engine) Loaded() bool {
	select {
	case <-e.done:
	default:
		return false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return !e.closed && e.rt != nil && e.rt.session != nil
}

// armKeepAlive starts (or restarts) the idle timer after a load.
func (e *Engine) armKeepAlive() {
	if e.o.KeepAlive <= 0 {
		return
	}
	e.ka.mu.Lock()
	defer e.ka.mu.Unlock()
	if e.ka.timer == nil {
		e.ka.timer = time.AfterFunc(e.o.KeepAlive, e.idleCheck)
		return
	}
	e.ka.timer.Reset(e.o.KeepAlive)
}

// idleCheck runs when the keep-alive timer fires: it releases the model if
// no call used it for KeepAlive, else it sleeps until the keep-alive could
// next expire.
func (e *Engine) idleCheck() {
	ka := e.o.KeepAlive
	if left := ka - e.ka.idle(); left > 0 || e.ka.inflight.Load() > 0 {
		e.rearm(max(left, ka/4, time.Millisecond))
		return
	}
	e.mu.Lock()
	if e.closed || e.rt == nil || e.rt.session == nil {
		e.mu.Unlock()
		return
	}
	// A call may have finished while we waited for the lock.
	if left := ka - e.ka.idle(); left > 0 {
		e.mu.Unlock()
		e.rearm(left)
		return
	}
	old := e.rt
	e.rt = old.tokenizerOnly()
	e.cache.clear()
	e.ka.unloads.Add(1)
	e.mu.Unlock()

	err := old.close()
	old = nil
	// The weights, compiled graphs and activations are garbage now; hand
	// the pages back to the OS rather than waiting for the scavenger.
	// GoMLX frees buffers through finalizers, which need a cycle to run
	// before the memory they held is garbage: collect twice, then release.
	relaxGC()
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	e.log.Info("embedding model unloaded after keep-alive", "model", e.info.ModelID,
		"keep_alive", ka.String(), "err", err)
}

func (e *Engine) rearm(d time.Duration) {
	e.ka.mu.Lock()
	defer e.ka.mu.Unlock()
	if e.ka.timer != nil {
		e.ka.timer.Reset(d)
	}
}

// acquireModel waits for the model, reloads it if a keep-alive unload
// released it, and pins it against Close and unload; release with
// releaseModel.
func (e *Engine) acquireModel(ctx context.Context) (*loaded, error) {
	for {
		rt, err := e.acquire(ctx)
		if err != nil {
			return nil, err
		}
		if rt.session != nil {
			e.ka.inflight.Add(1)
			e.ka.touch()
			return rt, nil
		}
		e.mu.RUnlock()
		if err := e.reload(ctx); err != nil {
			return nil, err
		}
	}
}

func (e *Engine) releaseModel() {
	e.ka.touch()
	e.ka.inflight.Add(-1)
	e.mu.RUnlock()
}

// reload loads the model again after a keep-alive unload, from the folder
// the first load resolved (no network). A file that changed on disk since
// is an error: vectors stored with the old one would no longer compare.
func (e *Engine) reload(ctx context.Context) error {
	e.ka.reload.Lock()
	defer e.ka.reload.Unlock()
	e.mu.RLock()
	closed, have := e.closed, e.rt != nil && e.rt.session != nil
	e.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if have {
		return nil // another caller reloaded it
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t, heapBefore := time.Now(), liveHeap()
	rt, err := loadModel(ctx, e.res.Dir, e.res.OnnxFile, e.ref.ID, e.o)
	if err != nil {
		return fmt.Errorf("reload embedding model %s: %w", e.ref.ID, err)
	}
	if rt.info.SHA256 != e.info.SHA256 {
		rt.close()
		return fmt.Errorf("%w: %s changed on disk since it was first loaded (sha256 %s, was %s); restart mnemo to use the new file",
			ErrInvalidModel, rt.info.OnnxFile, rt.info.SHA256, e.info.SHA256)
	}
	if !e.o.NoWarmup {
		// The warm-up, as at load: besides compiling the short-query
		// graph, it makes the executor's first graph build a lone one
		// (GoMLX's context.Exec swaps its context after the first build
		// without a lock, a data race if two passes build their first
		// graphs at once).
		if _, err := rt.forward(context.Background(), [][]int{rt.warmupIDs()}); err != nil {
			rt.close()
			return fmt.Errorf("reload embedding model %s: first forward pass failed: %w", e.ref.ID, err)
		}
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		rt.close()
		return ErrClosed
	}
	e.rt = rt
	e.ka.loads.Add(1)
	e.ka.touch()
	e.startPrecompile(rt)
	e.mu.Unlock()
	tightenGC(heapBefore)
	e.armKeepAlive()
	e.log.Info("embedding model reloaded", "model", e.info.ModelID, "load_time", time.Since(t).Round(time.Millisecond).String())
	return nil
}
