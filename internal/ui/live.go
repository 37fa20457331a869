package ui

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// watcher polls the store for writes by any process and tells the open
// pages (server-sent events). SQLite's append-only change log gives a
// cheap, exact version (its highest sequence number); another store is
// fingerprinted by its count and newest memory.
type watcher struct {
	st    memory.Store
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	version string
	subs    map[chan string]struct{}
}

func newWatcher(st memory.Store, every time.Duration, log *slog.Logger) *watcher {
	return &watcher{st: st, every: every, log: log, subs: map[chan string]struct{}{}}
}

type sqlDBer interface{ DB() *sql.DB }

// fingerprint is the store's current version.
func (w *watcher) fingerprint(ctx context.Context) (string, error) {
	if d, ok := w.st.(sqlDBer); ok {
		var seq int64
		if err := d.DB().QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq); err == nil {
			return fmt.Sprint(seq), nil
		}
	}
	st, err := w.st.Stats(ctx)
	if err != nil {
		return "", err
	}
	newest, err := w.st.List(ctx, memory.ListOptions{Limit: 1})
	if err != nil {
		return "", err
	}
	v := fmt.Sprint(st.Total)
	if len(newest) > 0 {
		v += "/" + newest[0].ID + "/" + fmt.Sprint(newest[0].UpdatedAt.UnixMilli())
	}
	return v, nil
}

func (w *watcher) run(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		v, err := w.fingerprint(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Warn("ui: watching the store", "err", err)
		} else {
			w.publish(v)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *watcher) publish(v string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v == w.version {
		return
	}
	w.version = v
	for c := range w.subs {
		select {
		case c <- v:
		default: // a slow page gets the next change
		}
	}
}

func (w *watcher) subscribe() (chan string, string) {
	c := make(chan string, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.subs[c] = struct{}{}
	return c, w.version
}

func (w *watcher) unsubscribe(c chan string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.subs, c)
}

// handleEvents streams "change" events carrying the store's version; the
// page's script compares it with the version it was rendered at.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	c, _ := s.watch.subscribe()
	defer s.watch.unsubscribe(c)
	// The store's version now, not the watcher's last poll: a page
	// rendered after a write must not take the older version for a change.
	v := s.currentVersion(r.Context())
	s.watch.publish(v)
	select {
	case <-c: // our own publish
	default:
	}
	fmt.Fprintf(w, "retry: 3000\nevent: version\ndata: %s\n\n", v)
	fl.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case v := <-c:
			fmt.Fprintf(w, "event: version\ndata: %s\n\n", v)
			fl.Flush()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		}
	}
}

// currentVersion is the version a page is rendered at.
func (s *Server) currentVersion(ctx context.Context) string {
	v, err := s.watch.fingerprint(ctx)
	if err != nil {
		return ""
	}
	return v
}
