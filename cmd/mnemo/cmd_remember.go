package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

func init() {
	register(&command{
		name:    "remember",
		summary: "store a memory (TEXT, or stdin when TEXT is - or absent)",
		usage:   "[TEXT | -] [--tags a,b] [--project P] [--supersedes ID[,ID…]] [--model M] [--json]",
		examples: []string{
			`mnemo remember "The staging DB is on port 5433" --tags infra,db`,
			"git log -1 --format=%B | mnemo remember --tags decision",
			`mnemo remember "use UTC everywhere" --project global --json`,
		},
		run: runRemember,
	})
}

// cliModelWait bounds how long a CLI command waits for a model that is
// loading (a first run downloads it); the CLI waits rather than degrades.
const cliModelWait = 10 * time.Minute

func runRemember(ctx context.Context, env *runEnv, args []string) error {
	c := commands["remember"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	f.addTags(fs, "comma-separated tags, e.g. decision,db")
	f.addModel(fs)
	fs.StringVar(&f.project, "project", "", `project of the memory (default: the current project; "global" for all projects)`)
	var supersedes []string
	fs.Func("supersedes", "ID(s) of memories this one replaces (comma-separated or repeated): kept as history, no longer recalled", func(v string) error {
		supersedes = append(supersedes, splitList(v)...)
		return nil
	})
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	// The model loads in the background while the input is read and
	// validated; Remember then waits for it (ModelWait) before storing.
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "remember", Writes: true, Source: memory.SourceCLI, Model: app.ModelBackground,
		ModelName: f.model, StderrLevel: "warn", Progress: env.stderr, QuietModel: true})
	if err != nil {
		return err
	}
	defer a.Close()

	text := strings.Join(pos, " ")
	if len(pos) == 0 || (len(pos) == 1 && pos[0] == "-") {
		if text, err = readStdinText(env, a.Cfg.MaxContentBytes); err != nil {
			return err
		}
	}
	res, err := a.Svc.Remember(ctx, service.RememberRequest{
		Content:    text,
		Tags:       f.tagList(),
		Project:    f.project,
		Source:     memory.SourceCLI,
		ModelWait:  cliModelWait,
		Supersedes: supersedes,
	})
	if err != nil {
		return err
	}
	return printRemembered(env, a, f.json, res)
}

// printRemembered prints the answer of remember and edit.
func printRemembered(env *runEnv, a *app.App, asJSON bool, res service.RememberResult) error {
	if !res.Embedded {
		// One message: stored, by keyword only, and the ways out.
		fmt.Fprintf(env.stderr, "mnemo: stored without a vector (found by keyword until 'mnemo reembed' runs with a model): %s\n", app.ModelHelp(a.Cfg, a.ModelErr()))
	}
	if asJSON {
		return writeJSONLine(env.stdout, res)
	}
	if res.Duplicate {
		fmt.Fprintf(env.stdout, "already remembered as %s (project %s)\n", res.ID, res.Project)
	} else {
		fmt.Fprintf(env.stdout, "remembered %s (project %s)\n", res.ID, res.Project)
	}
	if len(res.Redacted) > 0 {
		fmt.Fprintf(env.stdout, "  redacted before storing: %s (MNEMO_REDACT=off stores text verbatim)\n", redact.Summary(res.Redacted))
	}
	if len(res.Supersedes) > 0 {
		fmt.Fprintf(env.stdout, "  replaces %s (kept as history: 'mnemo show %s')\n", strings.Join(res.Supersedes, ", "), res.ID)
	}
	for _, s := range res.SimilarTo {
		fmt.Fprintf(env.stdout, "  similar to %s (cosine %.3f)\n", s.ID, s.Similarity)
	}
	if len(res.SimilarTo) > 0 && !res.Duplicate {
		ids := make([]string, len(res.SimilarTo))
		for i, s := range res.SimilarTo {
			ids[i] = s.ID
		}
		fmt.Fprintf(env.stdout, "  if this replaces it: mnemo remember --supersedes %s with the same text\n", strings.Join(ids, ","))
	}
	return nil
}

// readStdinText reads a memory from stdin, refusing more than max bytes
// without reading an unbounded stream into memory.
func readStdinText(env *runEnv, max int) (string, error) {
	if env.stdin == nil {
		return "", fmt.Errorf("no TEXT given and no stdin to read")
	}
	if isTerminal(env.stdin) {
		fmt.Fprintln(env.stderr, "mnemo: type the memory, then Ctrl-D (or pass it as TEXT)")
	}
	b, err := io.ReadAll(io.LimitReader(env.stdin, int64(max)+1))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if len(b) > max {
		return "", fmt.Errorf("stdin has more than %d bytes, the limit for one memory (MNEMO_MAX_CONTENT); split it or store a summary", max)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("nothing to remember: TEXT is empty (pass TEXT or pipe it on stdin)")
	}
	return string(b), nil
}
