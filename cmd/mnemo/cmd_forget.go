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
		name:    "forget",
		summary: "delete memories by id",
		usage:   "ID… [--json]",
		examples: []string{
			"mnemo forget 01JD2ZQ8X4K7V3N5M8P9R0S1T2",
			"mnemo forget ID1 ID2 --json",
			"mnemo list --json | jq -r .id | head -3 | xargs mnemo forget",
		},
		run: runForget,
	})
}

func runForget(ctx context.Context, env *runEnv, args []string) error {
	c := commands["forget"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	var ids []string
	for _, p := range pos {
		ids = append(ids, splitList(p)...) // "ID1,ID2" works too
	}
	if len(ids) == 0 {
		return usageErr(env, "forget needs at least one ID (see 'mnemo list')")
	}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "forget", Writes: true, Source: memory.SourceCLI, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Svc.Forget(ctx, ids)
	if err != nil && len(res.Deleted) == 0 && len(res.Missing) == 0 {
		return err // invalid input or store failure: nothing happened
	}
	for _, id := range res.Deleted {
		if f.json {
			writeJSONLine(env.stdout, map[string]any{"id": id, "deleted": true})
		} else {
			fmt.Fprintf(env.stdout, "forgot %s\n", id)
		}
	}
	for _, id := range res.Missing {
		if f.json {
			writeJSONLine(env.stdout, map[string]any{"id": id, "deleted": false, "error": "not found"})
		}
	}
	if len(res.Missing) > 0 {
		return fmt.Errorf("no memory with id %s", strings.Join(res.Missing, ", "))
	}
	return nil
}
