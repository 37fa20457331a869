package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func init() {
	register(&command{
		name:    "pin",
		summary: "pin memories: always in recall results and injected at session start",
		usage:   "ID… [--json]",
		examples: []string{
			"mnemo pin 01JD2ZQ8X4K7V3N5M8P9R0S1T2     # always recalled, injected at session start",
			"mnemo pin ID1 ID2 --json",
		},
		run: func(ctx context.Context, env *runEnv, args []string) error { return runPin(ctx, env, args, "pin") },
	})
	register(&command{
		name:    "unpin",
		summary: "unpin memories",
		usage:   "ID… [--json]",
		examples: []string{
			"mnemo unpin 01JD2ZQ8X4K7V3N5M8P9R0S1T2",
			"mnemo unpin ID1 ID2 --json",
		},
		run: func(ctx context.Context, env *runEnv, args []string) error { return runPin(ctx, env, args, "unpin") },
	})
}

func runPin(ctx context.Context, env *runEnv, args []string, name string) error {
	c := commands[name]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var ids []string
	for _, p := range pos {
		ids = append(ids, splitList(p)...)
	}
	if len(ids) == 0 {
		return usageErr(env, "%s needs at least one ID (see 'mnemo list')", name)
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: name, Writes: true, Source: memory.SourceCLI, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()
	pinned := name == "pin"
	res, err := a.Svc.Pin(ctx, ids, pinned)
	if err != nil {
		return err
	}
	for _, id := range res.Changed {
		if f.json {
			writeJSONLine(env.stdout, map[string]any{"id": id, "pinned": pinned})
		} else {
			fmt.Fprintf(env.stdout, "%sned %s\n", name, id)
		}
	}
	for _, id := range res.Missing {
		if f.json {
			writeJSONLine(env.stdout, map[string]any{"id": id, "pinned": !pinned, "error": "not found"})
		}
	}
	if len(res.Missing) > 0 {
		return fmt.Errorf("no memory with id %s", strings.Join(res.Missing, ", "))
	}
	return nil
}
