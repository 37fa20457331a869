package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

func init() {
	register(&command{
		name:    "migrate",
		summary: "copy every memory from one store into another (e.g. local SQLite → team PostgreSQL); safe to repeat",
		usage:   "--to postgres://… [--from sqlite[:PATH] | --from postgres://…] [--batch N] [--workers N] [--json]",
		run:     runMigrate,
	})
}

// migrateResult is what migrate reports (stdout, --json).
type migrateResult struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Read     int           `json:"read"`    // memories read from the source
	Copied   int           `json:"copied"`  // written to the target
	Present  int           `json:"present"` // already there (same id, or same content in the project)
	Failed   int           `json:"failed"`  // rejected by the target (listed in Failures)
	Failures []string      `json:"failures,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

func runMigrate(ctx context.Context, env *runEnv, args []string) error {
	c := commands["migrate"]
	fs := newFlagSet(env, c)
	var (
		from, to       string
		batch, workers int
		asJSON         bool
	)
	fs.StringVar(&from, "from", "sqlite", "source store: sqlite (this machine's store), sqlite:PATH, or a postgres:// URL")
	fs.StringVar(&to, "to", "", "target store: a postgres:// URL (default $MNEMO_STORE when it is one), or sqlite:PATH")
	fs.IntVar(&batch, "batch", 500, "memories read per page")
	fs.IntVar(&workers, "workers", postgres.DefaultMaxConns, "concurrent writes to the target")
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "migrate takes no arguments, only flags (got %q)", pos[0])
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if to == "" && postgres.IsURL(cfg.Store) {
		to = cfg.Store
	}
	if to == "" {
		return usageErr(env, "migrate needs --to postgres://user@host/db (or MNEMO_STORE set to one)")
	}
	if batch < 1 || batch > 10000 {
		return usageErr(env, "--batch must be 1..10000")
	}
	if workers < 1 || workers > 64 {
		return usageErr(env, "--workers must be 1..64")
	}

	src, srcName, err := openMigrateStore(ctx, from, cfg, true)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, dstName, err := openMigrateStore(ctx, to, cfg, false, postgres.WithMaxConns(workers))
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer dst.Close()
	if srcName == dstName {
		return usageErr(env, "source and target are the same store (%s)", srcName)
	}

	res, err := migrateStores(ctx, src, dst, batch, workers, newProgress(env.stderr))
	res.From, res.To = srcName, dstName
	if asJSON {
		if jerr := writeJSONLine(env.stdout, res); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprintf(env.stdout, "migrated %s → %s: %d read, %d copied, %d already present, %d failed (%s)\n",
			srcName, dstName, res.Read, res.Copied, res.Present, res.Failed, res.Elapsed.Round(time.Millisecond))
		for _, f := range res.Failures {
			fmt.Fprintf(env.stdout, "  %s\n", f)
		}
	}
	if err != nil {
		return fmt.Errorf("migrate stopped after %d memories (run it again to resume: copies are idempotent): %w", res.Read, err)
	}
	if res.Failed > 0 {
		return exitError{code: 1}
	}
	return nil
}

// openMigrateStore opens "sqlite", "sqlite:PATH" or a postgres URL. A SQLite
// source must already exist: migrating from a typo must not create a file.
func openMigrateStore(ctx context.Context, spec string, cfg config.Config, source bool, pgOpts ...postgres.Option) (memory.Store, string, error) {
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

// migrateStores copies every memory of src into dst, keeping ids,
// timestamps, authors and vectors (with their model stamps). It pages
// through src newest first with List; a memory already in dst (same id, or
// the same content in the same project) is counted as present, so running it
// again copies only what is missing. Pages are written by workers goroutines.
//
// List pages by offset: if memories are deleted from src during the run,
// some may be skipped (a second run picks them up); new ones only cause
// re-reads, which are harmless.
func migrateStores(ctx context.Context, src, dst memory.Store, batch, workers int, progress func(done, total int, r *migrateResult)) (migrateResult, error) {
	start := time.Now()
	var res migrateResult
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

// newProgress reports progress on w: a self-overwriting line on a terminal,
// otherwise a line at most every two seconds; done < 0 ends the report.
func newProgress(w io.Writer) func(done, total int, r *migrateResult) {
	tty := isTerminal(w)
	var last time.Time
	return func(done, total int, r *migrateResult) {
		if done < 0 {
			if tty {
				fmt.Fprintln(w)
			}
			return
		}
		if !tty && time.Since(last) < 2*time.Second && done != total {
			return
		}
		last = time.Now()
		of := ""
		if total > 0 {
			of = fmt.Sprintf("/%d (%d%%)", total, min(100, done*100/total))
		}
		line := fmt.Sprintf("migrate: %d%s read, %d copied, %d present, %d failed", done, of, r.Copied, r.Present, r.Failed)
		if tty {
			fmt.Fprintf(w, "\r%s", line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
}
