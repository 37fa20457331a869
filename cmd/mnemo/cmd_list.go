package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

func init() {
	register(&command{
		name:    "list",
		summary: "show recent memories, newest first",
		usage:   "[--project P | --all] [--limit N] [--offset N] [--tags a,b] [--pinned] [--include-superseded] [--json]",
		examples: []string{
			"mnemo list                       # this project's newest memories",
			"mnemo list --all --limit 50      # every project",
			"mnemo list --tags db --offset 20 --json",
		},
		run: runList,
	})
}

func runList(ctx context.Context, env *runEnv, args []string) error {
	c := commands["list"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	f.addScope(fs, "list")
	f.addTags(fs, "only memories with any of these comma-separated tags")
	limit := fs.Int("limit", service.DefaultListLimit, fmt.Sprintf("how many (1-%d)", service.MaxListLimit))
	offset := fs.Int("offset", 0, "skip this many of the newest")
	pinned := fs.Bool("pinned", false, "only pinned memories")
	inclSup := fs.Bool("include-superseded", false, "also list old versions that newer memories replaced")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "list takes no arguments (got %q); filter with --tags or --project", pos[0])
	}
	if *limit < 1 || *limit > service.MaxListLimit {
		return usageErr(env, "--limit %d: want a number of memories from 1 to %d", *limit, service.MaxListLimit)
	}
	if *offset < 0 || *offset > service.MaxListOffset {
		return usageErr(env, "--offset %d: want 0 or more", *offset)
	}
	scope, err := f.scope(env)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "list", ReadOnlyOK: true, Source: memory.SourceCLI, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()
	ms, err := a.Svc.List(ctx, service.ListRequest{Project: scope, Tags: f.tagList(), Limit: *limit, Offset: *offset,
		Pinned: *pinned, IncludeSuperseded: *inclSup})
	if err != nil {
		return err
	}
	if f.json {
		for _, m := range ms {
			if err := writeJSONLine(env.stdout, toMemoryJSON(m)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ms) == 0 {
		switch note := elsewhereNote(ctx, a, scope, "list them"); {
		case *offset > 0:
			fmt.Fprintf(env.stdout, "no memories past the first %d\n", *offset)
		case note != "" && f.tags != "":
			fmt.Fprintf(env.stdout, "no memories with these tags in this project; %s (unfiltered)\n", note)
		case note != "":
			fmt.Fprintf(env.stdout, "no memories in this project; %s\n", note)
		case f.tags != "":
			fmt.Fprintln(env.stdout, "no memories with these tags")
		default:
			fmt.Fprintln(env.stdout, "no memories yet (add one with 'mnemo remember TEXT')")
		}
		return nil
	}
	now := time.Now()
	tw := newTable(env.stdout)
	fmt.Fprintln(tw, "ID\tAGE\tPROJECT\tTAGS\tCONTENT")
	for _, m := range ms {
		content := m.Content
		if m.SupersededBy != "" {
			content = "(superseded by " + m.SupersededBy + ") " + content
		}
		if m.Pinned {
			content = "[pinned] " + content
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, humantime.Ago(now, m.CreatedAt), shortenLeft(m.Project, 24),
			shorten(tagString(m.Tags), 24), shorten(content, 72))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// A full page: say whether there is more, and how to see it.
	if len(ms) == *limit {
		next, err := a.Svc.List(ctx, service.ListRequest{Project: scope, Tags: f.tagList(), Limit: 1, Offset: *offset + *limit})
		if err == nil && len(next) > 0 {
			fmt.Fprintf(env.stdout, "more… mnemo list --offset %d%s\n", *offset+*limit, listFlagsAgain(f, *limit))
		}
	}
	return nil
}

// listFlagsAgain repeats the flags of this listing for the "more…" line.
func listFlagsAgain(f commonFlags, limit int) string {
	var b strings.Builder
	if limit != service.DefaultListLimit {
		fmt.Fprintf(&b, " --limit %d", limit)
	}
	if f.all {
		b.WriteString(" --all")
	}
	if f.project != "" {
		fmt.Fprintf(&b, " --project %q", f.project)
	}
	if f.tags != "" {
		fmt.Fprintf(&b, " --tags %q", f.tags)
	}
	return b.String()
}
