package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

func init() {
	register(&command{
		name:    "export",
		summary: "write memories as JSON lines (stdout or --out FILE)",
		usage:   "[--out FILE] [--vectors] [--project P | --all]",
		examples: []string{
			"mnemo export --out memories.jsonl          # this project's memories",
			"mnemo export --all --vectors > all.jsonl   # every project, with vectors",
			"mnemo export --project ~/src/app | jq .content",
		},
		run: runExport,
	})
}

func runExport(ctx context.Context, env *runEnv, args []string) error {
	c := commands["export"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addScope(fs, "export")
	out := fs.String("out", "", "write to FILE (created 0600, replaced only when the export succeeds) instead of stdout")
	vectors := fs.Bool("vectors", false, "include each memory's vector, model and dims (import keeps them, skipping re-embedding)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "export takes no arguments (got %q); use --out FILE", pos[0])
	}
	scope, err := f.scope(env)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "export", ReadOnlyOK: true, Source: memory.SourceCLI, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()

	var w io.Writer = env.stdout
	var tmp *os.File
	if *out != "" && *out != "-" {
		// Write beside the target and rename at the end, so a failed export
		// never leaves a truncated file where a good one was.
		tmp, err = os.CreateTemp(filepath.Dir(*out), ".mnemo-export-*")
		if err != nil {
			return fmt.Errorf("create %s: %w", *out, err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if err := tmp.Chmod(0o600); err != nil {
			return err
		}
		w = tmp
	}
	status := newStatusLine(env.stderr)
	w = &lineCounter{w: w, onAdd: func(n int) { status.set("export: %d memories written", n) }}
	bw := bufio.NewWriterSize(w, 256<<10)
	var skipped []memory.SkippedRange
	n, err := a.Svc.Export(ctx, bw, service.ExportOptions{Project: scope, Vectors: *vectors,
		OnSkip: func(r memory.SkippedRange) { skipped = append(skipped, r) }})
	if err != nil {
		status.clear()
		return fmt.Errorf("export stopped after %d memories: %w", n, err)
	}
	if err := bw.Flush(); err != nil {
		status.clear()
		return fmt.Errorf("write: %w", err)
	}
	status.clear()
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	}
	where := "stdout"
	if tmp != nil {
		where = *out
	}
	what := "project " + a.Project + " and global memories (--all for every project)"
	switch scope {
	case "*":
		what = "all projects"
	case "":
	default:
		what = "project " + scope + " and global memories"
	}
	fmt.Fprintf(env.stderr, "mnemo: exported %d memories (%s) to %s\n", n, what, where)
	if len(skipped) > 0 {
		rows := int64(0)
		for _, r := range skipped {
			rows += r.To - r.From + 1
			fmt.Fprintf(env.stderr, "mnemo: skipped unreadable rows %d-%d of the store: %s\n", r.From, r.To, r.Error)
		}
		fmt.Fprintf(env.stderr, "mnemo: the store is damaged: %d row ids in %d ranges could not be read (some may be ids of deleted memories); everything readable was exported\n", rows, len(skipped))
	}
	return nil
}
