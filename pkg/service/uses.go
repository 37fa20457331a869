package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Recording which memories a recall returned (their last-accessed time) is a
// write, and a write needs the store's write lock. A recall must never wait
// for it: another process may hold that lock for seconds (a long import, a
// reembed, a stuck writer), and a prompt hook has two seconds in all. So
// Recall answers from a read and hands the ids to a useRecorder, which
// records them in the background, batched, best-effort.

// Tuning of the background recording.
const (
	// useBatchDelay gathers the ids of recalls arriving close together
	// into one write.
	useBatchDelay = 20 * time.Millisecond
	// useMaxPending bounds the ids waiting while the store is busy; beyond
	// it, uses are dropped (they only order the session-start digest).
	useMaxPending = 10000
	// useRetryMax bounds the wait between attempts while the store fails.
	useRetryMax = 5 * time.Second
	// useLockWait is how long one attempt waits for the write lock when
	// the store can bound it (SQLite): a process about to exit spools the
	// uses rather than linger while another process writes.
	useLockWait = 25 * time.Millisecond
)

// tryToucher is a store that can record uses without waiting long for its
// write lock (sqlite.Store.TryTouch).
type tryToucher interface {
	TryTouch(ctx context.Context, ids []string, wait time.Duration) error
}

// RecordUse records that the memories of ids were used (put in front of
// the model) without a recall doing it: for callers that recall with
// NoUse. Like a recall's, the write happens in the background.
func (s *Service) RecordUse(ids []string) {
	var keep []string
	for _, id := range ids {
		if id != "" {
			keep = append(keep, id)
		}
	}
	if len(keep) > 0 {
		s.uses.add(keep)
	}
}

type useRecorder struct {
	store memory.Store
	log   *slog.Logger
	spill func(ids []string)

	mu       sync.Mutex
	pending  map[string]struct{}
	inflight []string
	started  bool
	closed   bool
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

func newUseRecorder(st memory.Store, log *slog.Logger, spill func([]string)) *useRecorder {
	return &useRecorder{store: st, log: log, spill: spill, pending: map[string]struct{}{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// add queues ids and returns at once.
func (r *useRecorder) add(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	for _, id := range ids {
		if len(r.pending) >= useMaxPending {
			r.log.Debug("recall: too many uses waiting for a busy store; dropping some")
			break
		}
		r.pending[id] = struct{}{}
	}
	if !r.started {
		r.started = true
		go r.loop()
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// take moves the pending ids to inflight and returns them.
func (r *useRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.pending))
	for id := range r.pending {
		ids = append(ids, id)
	}
	clear(r.pending)
	r.inflight = ids
	return ids
}

// settle ends an attempt: on failure the ids go back to pending.
func (r *useRecorder) settle(ids []string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight = nil
	if err == nil {
		return
	}
	for _, id := range ids {
		if len(r.pending) < useMaxPending {
			r.pending[id] = struct{}{}
		}
	}
}

func (r *useRecorder) flush() error {
	ids := r.take()
	if len(ids) == 0 {
		r.settle(nil, nil)
		return nil
	}
	// The store bounds a write itself (and ignores cancellation once it
	// has started); this is only a backstop.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if t, ok := r.store.(tryToucher); ok {
		err = t.TryTouch(ctx, ids, useLockWait)
	} else {
		err = r.store.Touch(ctx, ids)
	}
	r.settle(ids, err)
	return err
}

func (r *useRecorder) loop() {
	defer close(r.done)
	retry := 100 * time.Millisecond
	for {
		select {
		case <-r.wake:
		case <-r.stop:
			_ = r.flush() // last attempt; what fails is spilled by close
			return
		}
		select {
		case <-time.After(useBatchDelay):
		case <-r.stop:
		}
		if err := r.flush(); err != nil {
			r.log.Debug("recall: recording memory use failed; will retry", "err", err)
			select {
			case <-time.After(retry):
			case <-r.stop:
				return
			}
			retry = min(2*retry, useRetryMax)
			select {
			case r.wake <- struct{}{}:
			default:
			}
			continue
		}
		retry = 100 * time.Millisecond
	}
}

// close stops recording: it waits until ctx is done for what is queued to
// be written, and hands what is still not recorded to spill (or drops it).
func (r *useRecorder) close(ctx context.Context) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	started := r.started
	r.mu.Unlock()
	if !started {
		return
	}
	close(r.stop)
	select {
	case <-r.done:
	case <-ctx.Done():
	}
	r.mu.Lock()
	left := append([]string(nil), r.inflight...)
	for id := range r.pending {
		left = append(left, id)
	}
	clear(r.pending)
	r.mu.Unlock()
	if len(left) == 0 {
		return
	}
	if r.spill != nil {
		r.spill(left)
		return
	}
	r.log.Debug("recall: the store stayed busy; some memory uses were not recorded", "ids", len(left))
}
