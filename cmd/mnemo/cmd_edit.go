package main

import (
	"context"
	"strings"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

func init() {
	register(&command{
		name:    "edit",
		summary: "correct a memory: store a new version that supersedes it (the old one is kept as history)",
		usage:   "ID [TEXT | -] [--tags a,b] [--model M] [--json]",
		examples: []string{
			`mnemo edit 01JD2ZQ8X4K7V3N5M8P9R0S1T2 "staging DB moved to port 6543"`,
			"mnemo show ID --json | jq -r .content | sed s/5433/6543/ | mnemo edit ID -",
			`mnemo edit ID "staging DB: port 6543" --tags infra,db --json`,
		},
		run: runEdit,
	})
}

func runEdit(ctx context.Context, env *runEnv, args []string) error {
	c := commands["edit"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addJSON(fs)
	f.addTags(fs, "tags of the new version (default: the old version's)")
	f.addModel(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr(env, "edit needs the ID of the memory to correct, then the new TEXT (or - for stdin)")
	}
	id, rest := pos[0], pos[1:]
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "edit", Writes: true, Source: memory.SourceCLI, Model: app.ModelBackground,
		ModelName: f.model, StderrLevel: "warn", Progress: env.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	text := strings.Join(rest, " ")
	if len(rest) == 0 || (len(rest) == 1 && rest[0] == "-") {
		if text, err = readStdinText(env, a.Cfg.MaxContentBytes); err != nil {
			return err
		}
	}
	var tags []string
	if f.tags != "" {
		tags = f.tagList()
	}
	res, err := a.Svc.Edit(ctx, service.EditRequest{ID: id, Content: text, Tags: tags, Source: memory.SourceCLI, ModelWait: cliModelWait})
	if err != nil {
		return err
	}
	return printRemembered(env, a, f.json, res)
}
