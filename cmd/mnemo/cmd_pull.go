package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
)

func init() {
	register(&command{
		name:    "pull",
		summary: "download (or re-verify) a model into the cache and print its folder",
		usage:   "[MODEL] [--json]",
		examples: []string{
			"mnemo pull                                         # the configured model (MNEMO_MODEL)",
			"mnemo pull sentence-transformers/all-MiniLM-L6-v2   # a Hugging Face repo, into MNEMO_CACHE",
			"mnemo pull --json | jq -r .dir",
		},
		run: runPull,
	})
}

func runPull(ctx context.Context, env *runEnv, args []string) error {
	fs := newFlagSet(env, commands["pull"])
	asJSON := fs.Bool("json", false, "print one JSON object (model, folder, dims, max_tokens, sha256)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr(env, "pull takes one MODEL")
	}
	cfg, moved, err := app.LoadConfig(ctx, 0) // it logs in the data dir: settle it first
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		cfg.Model = pos[0]
	}
	log, closeLog := logging.New(logging.Options{Level: cfg.LogLevel, Path: cfg.LogPath(), Process: "pull"})
	defer closeLog()
	moved.Log(log)
	o := app.EngineOptions(cfg, log)
	o.Progress = env.stderr
	dir, err := embed.Pull(ctx, o)
	if err != nil {
		if ctx.Err() == nil && app.IsUnreachable(err) {
			return errors.New(app.ModelHelp(cfg, err))
		}
		return err
	}
	// Prove the files load (offline: nothing more to fetch).
	o.Offline, o.Progress, o.NoWarmup, o.CacheEntries = true, nil, true, -1
	eng, err := embed.Load(ctx, o)
	if err != nil {
		return fmt.Errorf("model files are in %s but do not load: %w", dir, err)
	}
	in := eng.Info()
	_ = eng.Close()
	if *asJSON {
		return writeJSONLine(env.stdout, struct {
			Model     string `json:"model"`
			Dir       string `json:"dir"`
			Dims      int    `json:"dims"`
			MaxTokens int    `json:"max_tokens"`
			SHA256    string `json:"sha256"`
		}{in.ModelID, dir, in.Dims, in.MaxTokens, in.SHA256})
	}
	fmt.Fprintf(env.stderr, "mnemo: %s: %d dims, max %d tokens, sha256 %s\n", in.ModelID, in.Dims, in.MaxTokens, in.SHA256)
	fmt.Fprintln(env.stdout, dir)
	return nil
}
