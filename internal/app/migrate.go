package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/postgres"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// MigrateResult is what migrate reports (stdout, --json).
type MigrateResult struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Read     int           `json:"read"`    // memories read from the source
	Copied   int           `json:"copied"`  // written to the target
	Present  int           `json:"present"` // already there (same id, or same content in the project)
	Failed   int           `json:"failed"`  // rejected by the target (listed in Failures)
	Failures []string      `json:"failures,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// OpenStoreSpec opens the store a migrate flag names: "sqlite" (the
// configured SQLite file), "sqlite:PATH" or a postgres:// URL; the second
// result names it for people. A SQLite
// source must already exist: migrating from a typo must not create a file.
func OpenStoreSpec(ctx context.Context, spec string, cfg config.Config, source bool, pgOpts ...postgres.Option) (memory.Store, string, error) {
	switch {
	case postgres.IsURL(spec):
		s, err := postgres.Open(ctx, spec, pgOpts...)
		if err != nil {
			return nil, "", err
		}
		return s, s.Path(), nil
	case spec == "sqlite" || strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite"), ":")
		if path == "" {
			path = cfg.DBPath()
		}
		if source {
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, "", fmt.Errorf("no SQLite store at %s: nothing to migrate (give --from sqlite:PATH)", path)
			} else if err != nil {
				return nil, "", err
			}
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, "", err
		}
		return s, "sqlite:" + s.Path(), nil
	}
	return nil, "", fmt.Errorf("%q is not a store: use sqlite, sqlite:PATH or postgres://…", spec)
}

// Migrate copies every memory of src into dst, keeping ids,
// timestamps, authors and vectors (with their model stamps). It pages
// through src newest first with List; a memory already in dst (same id, or
// the same content in the same project) is counted as present, so running it
// again copies only what is missing. Pages are written by workers goroutines.
//
// List pages by offset: if memories are deleted from src during the run,
// some may be skipped (a second run picks them up); new ones only cause
// re-reads, which are harmless.
func Migrate(ctx context.Context, src, dst memory.Store, batch, workers int, progress func(done, total int, r *MigrateResult)) (MigrateResult, error) {
	start := time.Now()
	var res MigrateResult
	total := -1
	if st, err := src.Stats(ctx); err == nil {
		total = st.Total
	}
	var mu sync.Mutex
	for offset := 0; ; offset += batch {
		page, err := src.List(ctx, memory.ListOptions{Limit: batch, Offset: offset})
		if err != nil {
			res.Elapsed = time.Since(start)
			return res, fmt.Errorf("read source: %w", err)
		}
		if len(page) == 0 {
			break
		}
		res.Read += len(page)
		jobs := make(chan *memory.Memory)
		var wg sync.WaitGroup
		var fatal error
		for range min(workers, len(page)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m := range jobs {
					r, err := dst.Put(ctx, m)
					mu.Lock()
					switch {
					case errors.Is(err, memory.ErrInvalid):
						res.Failed++
						res.Failures = append(res.Failures, fmt.Sprintf("%s: %v", m.ID, err))
					case err != nil:
						if fatal == nil {
							fatal = err
						}
					case r.Duplicate:
						res.Present++
					default:
						res.Copied++
					}
					mu.Unlock()
				}
			}()
		}
	feed:
		for i := range page {
			select {
			case jobs <- &page[i]:
			case <-ctx.Done():
				break feed
			}
		}
		close(jobs)
		wg.Wait()
		if fatal == nil {
			fatal = ctx.Err()
		}
		if fatal != nil {
			res.Elapsed = time.Since(start)
			return res, fmt.Errorf("write target: %w", fatal)
		}
		progress(res.Read, total, &res)
		if len(page) < batch {
			break
		}
	}
	res.Elapsed = time.Since(start)
	progress(-1, total, &res)
	return res, nil
}
