package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func init() {
	register(&command{
		name:    "reembed",
		summary: "embed memories that have no vector from the current model (resumable)",
		usage:   "[--model M] [--json]",
		examples: []string{
			"mnemo reembed                          # after switching MNEMO_MODEL",
			"mnemo reembed --model ./models/e5-small   # with another model folder",
			"mnemo reembed --json",
		},
		run: runReembed,
	})
}

func runReembed(ctx context.Context, env *runEnv, args []string) error {
	c := commands["reembed"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addModel(fs)
	f.addJSON(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "reembed takes no arguments")
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "reembed", Writes: true, Source: memory.SourceCLI, Model: app.ModelSync,
		ModelName: f.model, StderrLevel: "warn", Progress: env.stderr, QuietModel: true})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.ModelErr(); err != nil {
		return fmt.Errorf("model failed to load, nothing re-embedded: %s", app.ModelHelp(a.Cfg, err))
	}
	bar := newProgressBar(env.stderr, "re-embedding")
	n, err := a.Svc.Reembed(ctx, bar.update)
	bar.finish()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d memories; run 'mnemo reembed' again to continue", n)
		}
		return fmt.Errorf("stopped after %d memories: %w (run 'mnemo reembed' again to continue)", n, err)
	}
	if f.json {
		return writeJSONLine(env.stdout, struct {
			Reembedded int    `json:"reembedded"`
			Model      string `json:"model"`
		}{n, a.Svc.ModelStatus().Model})
	}
	fmt.Fprintf(env.stdout, "re-embedded %d memories with %s\n", n, a.Svc.ModelStatus().Model)
	return nil
}

// progressBar draws "label [#####.....] done/total" on a terminal, redrawn
// in place; on anything else it prints a line at most every 10%.
type progressBar struct {
	w       io.Writer
	label   string
	tty     bool
	start   time.Time
	lastPct int
	drawn   bool
}

func newProgressBar(w io.Writer, label string) *progressBar {
	return &progressBar{w: w, label: label, tty: isTerminal(w), start: time.Now(), lastPct: -1}
}

func (p *progressBar) update(done, total int) {
	if total <= 0 {
		return
	}
	pct := done * 100 / total
	if p.tty {
		const width = 30
		fill := width * done / total
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %3d%% %s", p.label, strings.Repeat("#", fill), strings.Repeat(".", width-fill),
			done, total, pct, time.Since(p.start).Round(time.Second))
		p.drawn = true
		return
	}
	if pct/10 != p.lastPct/10 || done == total && p.lastPct != 100 {
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", p.label, done, total, pct)
		p.lastPct = pct
	}
}

func (p *progressBar) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
