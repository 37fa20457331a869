package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/postgres"
)

func init() {
	register(&command{
		name:    "migrate",
		summary: "copy every memory from one store into another (e.g. local SQLite → team PostgreSQL); safe to repeat",
		usage:   "--to postgres://… [--from sqlite[:PATH] | --from postgres://…] [--batch N] [--workers N] [--json]",
		examples: []string{
			"mnemo migrate --to postgres://user@db/mnemo          # local SQLite → team PostgreSQL",
			"mnemo migrate --from sqlite:old.db --to postgres://db/mnemo --json",
			"mnemo migrate --from postgres://old/mnemo --to postgres://new/mnemo --batch 500",
		},
		run: runMigrate,
	})
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
	cfg, _, err := app.LoadConfig(ctx, 0)
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

	src, srcName, err := app.OpenStoreSpec(ctx, from, cfg, true)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, dstName, err := app.OpenStoreSpec(ctx, to, cfg, false, postgres.WithMaxConns(workers))
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer dst.Close()
	if srcName == dstName {
		return usageErr(env, "source and target are the same store (%s)", srcName)
	}

	res, err := app.Migrate(ctx, src, dst, batch, workers, newProgress(env.stderr))
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

// newProgress reports progress on w: a self-overwriting line on a terminal,
// otherwise a line at most every two seconds; done < 0 ends the report.
func newProgress(w io.Writer) func(done, total int, r *app.MigrateResult) {
	tty := isTerminal(w)
	var last time.Time
	return func(done, total int, r *app.MigrateResult) {
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
