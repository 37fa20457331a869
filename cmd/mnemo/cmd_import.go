package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

func init() {
	register(&command{
		name:    "import",
		summary: "add memories from a JSON lines file (as export writes); safe to repeat",
		usage:   "FILE | - [--project P] [--json]",
		examples: []string{
			"mnemo import memories.jsonl                 # as export wrote it; safe to repeat",
			"mnemo export --all | ssh host mnemo import -   # copy to another machine",
			"mnemo import notes.jsonl --project global --json",
		},
		run: runImport,
	})
}

// maxBadLinesShown bounds the bad lines listed in human output.
const maxBadLinesShown = 20

func runImport(ctx context.Context, env *runEnv, args []string) error {
	c := commands["import"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	fs.StringVar(&f.project, "project", "", "project for lines that name none (default: the current project)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(env, "import needs exactly one FILE (or - for stdin)")
	}
	var r io.Reader = env.stdin
	if pos[0] != "-" {
		fh, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer fh.Close()
		r = fh
	} else if r == nil {
		return fmt.Errorf("no stdin to read")
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "import", Writes: true, Source: memory.SourceImport, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()
	// Progress on a terminal: bytes read of the file's size.
	status := newStatusLine(env.stderr)
	var size int64
	if fh, ok := r.(*os.File); ok {
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	}
	r = &byteCounter{r: r, onAdd: func(n int64) {
		if size > 0 {
			status.set("import: %d%% of %s read", min(100, n*100/size), pos[0])
		} else {
			status.set("import: %d KiB read", n>>10)
		}
	}}
	res, err := a.Svc.Import(ctx, r, service.ImportOptions{Project: f.project})
	status.clear()
	if f.json {
		if jerr := writeJSONLine(env.stdout, res); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprintf(env.stdout, "imported %d new memories, %d already present, %d bad lines (of %d)\n",
			res.Imported, res.Duplicates, res.BadLines, res.Lines)
		for i, b := range res.Bad {
			if i == maxBadLinesShown {
				fmt.Fprintf(env.stdout, "  … and %d more bad lines (--json lists up to %d)\n", res.BadLines-i, service.MaxReportedBadLines)
				break
			}
			fmt.Fprintf(env.stdout, "  line %d: %s\n", b.Line, b.Error)
		}
		for i, d := range res.Dropped {
			if i == maxBadLinesShown {
				fmt.Fprintf(env.stdout, "  … and %d more vectors dropped (--json lists up to %d)\n", res.VectorsDropped-i, service.MaxReportedBadLines)
				break
			}
			fmt.Fprintf(env.stdout, "  line %d: %s\n", d.Line, d.Error)
		}
		if len(res.Redacted) > 0 {
			fmt.Fprintf(env.stdout, "redacted before storing: %s (MNEMO_REDACT=off stores text verbatim)\n", redact.Summary(res.Redacted))
		}
		if res.NeedEmbedding > 0 {
			fmt.Fprintf(env.stdout, "%d new memories have no vector yet: run 'mnemo reembed' for semantic search\n", res.NeedEmbedding)
		}
	}
	if err != nil {
		return fmt.Errorf("import stopped: %w", err)
	}
	if res.BadLines > 0 {
		// The good lines are stored; a non-zero status tells scripts to look.
		return exitError{code: 1}
	}
	return nil
}
