package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/doctor"
	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func init() {
	register(&command{
		name:    "show",
		summary: "print one memory whole: content, versions, provenance, vector status",
		usage:   "ID [--json]",
		examples: []string{
			"mnemo show 01JD2ZQ8X4K7V3N5M8P9R0S1T2           # content, versions, provenance",
			"mnemo show 01JD2ZQ8X4K7V3N5M8P9R0S1T2 --json | jq .content",
		},
		run: runShow,
	})
}

func runShow(ctx context.Context, env *runEnv, args []string) error {
	c := commands["show"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(env, "show needs one ID (see 'mnemo list' or 'mnemo recall')")
	}
	// The model is not loaded: its id (from the configuration) is enough
	// to say whether the stored vector is current.
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "show", ReadOnlyOK: true, Source: memory.SourceCLI, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()
	sh, err := a.Svc.Show(ctx, pos[0])
	if err != nil {
		return err
	}
	vs := sh.Vector
	if sh.Memory.Dims > 0 && vs.Model != "" {
		// Without a loaded model the service cannot compare; the
		// configured model says which vectors a recall would use.
		want := doctor.ExpectedModelID(a.Cfg.Model)
		vs.Current = vs.Model == want
		switch {
		case vs.Current:
			vs.Status = "current"
		default:
			vs.Status = fmt.Sprintf("other model (configured: %s): a running server re-embeds it, or run mnemo reembed", want)
		}
	}
	sh.Vector = vs
	if f.json {
		return writeJSONLine(env.stdout, sh)
	}
	m := sh.Memory
	now := time.Now()
	w := env.stdout
	fmt.Fprintf(w, "id          %s\n", m.ID)
	state := "current version"
	if m.SupersededBy != "" {
		state = "superseded by " + m.SupersededBy + " (hidden from recall and list)"
	}
	if m.Pinned {
		state += ", pinned"
	}
	fmt.Fprintf(w, "state       %s\n", state)
	fmt.Fprintf(w, "project     %s\n", m.Project)
	fmt.Fprintf(w, "tags        %s\n", tagString(m.Tags))
	fmt.Fprintf(w, "source      %s\n", m.Source)
	if m.Author != "" {
		fmt.Fprintf(w, "author      %s\n", m.Author)
	}
	fmt.Fprintf(w, "created     %s (%s)\n", m.CreatedAt.Local().Format(time.RFC3339), humantime.Ago(now, m.CreatedAt))
	if !m.UpdatedAt.Equal(m.CreatedAt) {
		fmt.Fprintf(w, "updated     %s\n", m.UpdatedAt.Local().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "last used   %s (%s), recalled %d time%s\n", m.AccessedAt.Local().Format(time.RFC3339), humantime.Ago(now, m.AccessedAt),
		m.RecallCount, plural(m.RecallCount))
	if vs.Model != "" {
		fmt.Fprintf(w, "vector      %s, %d dims: %s\n", vs.Model, vs.Dims, vs.Status)
	} else {
		fmt.Fprintf(w, "vector      %s\n", vs.Status)
	}
	if len(m.Metadata) > 0 {
		keys := make([]string, 0, len(m.Metadata))
		for k := range m.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "metadata")
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %v\n", k, m.Metadata[k])
		}
	}
	if len(sh.Versions) > 1 {
		fmt.Fprintf(w, "versions    %d, oldest first\n", len(sh.Versions))
		for _, v := range sh.Versions {
			mark := " "
			switch {
			case v.ID == m.ID:
				mark = "*"
			case v.ID == sh.Current:
				mark = ">"
			}
			fmt.Fprintf(w, "  %s %s  %s  %s\n", mark, v.ID, humantime.Ago(now, v.CreatedAt), shorten(v.Preview, 60))
		}
		fmt.Fprintln(w, "  (* this one, > the current version)")
	}
	fmt.Fprintln(w, "content")
	for _, line := range strings.Split(strings.TrimRight(m.Content, "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
