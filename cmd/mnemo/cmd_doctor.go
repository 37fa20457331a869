package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/claudecode"
	"github.com/mnemo-mcp/mnemo/internal/doctor"
	"github.com/mnemo-mcp/mnemo/internal/marks"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func init() {
	register(&command{
		name:    "doctor",
		summary: "check the model, the store, running processes, the Claude Code set-up and the log; exit 1 when something needs you",
		usage:   "[--json] [--skip-model]",
		examples: []string{
			"mnemo doctor                 # every check, with what to do about each",
			"mnemo doctor --skip-model    # skip loading the model (faster)",
			"mnemo doctor --json | jq .   # the checks as JSON",
		},
		run: runDoctor,
	})
}

func runDoctor(ctx context.Context, env *runEnv, args []string) error {
	fs := newFlagSet(env, commands["doctor"])
	asJSON := fs.Bool("json", false, "print one JSON object")
	skipModel := fs.Bool("skip-model", false, "do not load the model (it takes seconds)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr(env, "unexpected argument %q", rest[0])
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	exe, _ := os.Executable()
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	home, _ := os.UserHomeDir()
	cwd, _ := os.Getwd()
	o := doctor.Options{
		Config:     cfg,
		Exe:        exe,
		UserHome:   home,
		ProjectDir: claudecode.ProjectRoot(os.Getenv, cwd),
		SkipModel:  *skipModel,
		OpenStore: func(ctx context.Context) (memory.Store, error) {
			return app.OpenStore(ctx, cfg, logging.Discard(), 0, true)
		},
	}
	if p, err := exec.LookPath("claude"); err == nil {
		o.ClaudeCLI = p
	}
	r := doctor.Run(ctx, o)
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		r.WriteTextStyle(env.stdout, marks.For(env.stdout))
	}
	if !r.OK {
		return exitError{code: 1}
	}
	return nil
}
