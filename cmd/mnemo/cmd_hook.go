package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/hooks"
	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/project"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/spool"
)

func init() {
	register(&command{
		name:    "hook",
		summary: "run as a Claude Code hook: reads the hook JSON on stdin, prints context to inject",
		usage:   "[--capture] EVENT   (user-prompt-submit | session-start | session-end | pre-compact, or Claude Code's names)",
		examples: []string{
			`echo '{"prompt":"how do we deploy?","cwd":"."}' | mnemo hook user-prompt-submit`,
			"mnemo hook --capture session-end < hook.json   # what `mnemo install --capture` registers",
		},
		run: runHook,
	})
}

// runHook never fails: a hook that errs would get in the way of the user's
// prompt, so every problem becomes one log line and exit status 0 with
// nothing on stdout. Logs go to the log file; stderr only with
// MNEMO_LOG_LEVEL=debug.
func runHook(ctx context.Context, env *runEnv, args []string) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		// Only for help: the hook reads its one flag itself, never failing.
		fs := newFlagSet(env, commands["hook"])
		fs.Bool("capture", false, "store the transcript's \"remember: …\" lines (session-end, pre-compact; default $MNEMO_HOOK_CAPTURE)")
		return flag.ErrHelp
	}
	start := time.Now()
	cfg, cfgErr := config.FromEnv()
	var moved app.DataDir
	if cfgErr == nil {
		// A hook waits for another process's move of the store no longer
		// than its budget, then fails open.
		moved, cfgErr = app.SettleHome(ctx, &cfg, cfg.HookBudget)
	}
	var stderr io.Writer
	if cfg.LogLevel == "debug" {
		stderr = env.stderr
	}
	logPath := ""
	if cfg.Home != "" {
		logPath = cfg.LogPath()
	}
	log, closeLog := logging.New(logging.Options{Level: cfg.LogLevel, Path: logPath, Stderr: stderr, Process: "hook"})
	defer closeLog()
	moved.Log(log)

	// --capture is how an installed capture hook enables capture without
	// relying on Claude Code's environment.
	capture := cfg.HookCapture
	var rest []string
	for _, a := range args {
		if a == "--capture" {
			capture = true
			continue
		}
		rest = append(rest, a)
	}
	args = rest
	event := ""
	if len(args) > 0 {
		event = args[0]
	}
	if cfgErr != nil {
		log.Warn("hook failed open", "event", event, "err", cfgErr)
		return nil
	}
	if len(args) != 1 {
		log.Warn("hook failed open", "event", event, "err", fmt.Sprintf("want exactly one EVENT argument, got %d", len(args)))
		return nil
	}

	o := hooks.Options{
		Budget:  cfg.HookBudget,
		Capture: capture,
		Project: func(cwd string) (string, error) { return project.Detect(os.Getenv, cwd), nil },
		Open:    app.HookOpener(cfg, log, nil),
		Log:     log,
	}
	if cfg.Home != "" {
		o.SpoolDir = spool.Dir(cfg.Home)
		o.Author = app.Author()
		o.KeepSecrets = !cfg.Redact
	}
	if cfg.HookWarm {
		dir := warm.Dir(cfg.Home)
		o.Warm = func(ctx context.Context, req service.RecallRequest) (service.RecallResult, error) {
			return warm.Recall(ctx, dir, req)
		}
		o.WarmUse = func(ctx context.Context, ids []string) error { return warm.RecordUse(ctx, dir, ids) }
	}
	var engine *embed.Engine
	if cfg.HookLocalModel {
		// Started now so loading overlaps the warm attempt; used only when
		// no server answers.
		engine = app.NewEngine(cfg, log, nil)
		defer engine.Close()
		o.LocalMode = memory.ModeHybrid
		o.Open = app.HookOpener(cfg, log, app.NewEmbedder(engine, cfg.Model))
	}
	o.Relevance.MinSimilarity = cfg.HookMinSimilarity

	res, err := hooks.Run(ctx, event, env.stdin, env.stdout, o)
	elapsed := time.Since(start)
	if err != nil {
		log.Warn("hook failed open", "event", event, "project", res.Project, "elapsed_ms", elapsed.Milliseconds(), "err", err)
		return nil
	}
	log.Debug("hook done", "event", res.Event, "project", res.Project, "path", res.Path, "mode", res.Mode,
		"hits", res.Hits, "injected", res.Injected, "captured", res.Captured, "spooled", res.Spooled, "elapsed_ms", elapsed.Milliseconds())
	return nil
}
