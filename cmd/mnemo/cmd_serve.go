package main

import (
	"context"
	"runtime/debug"

	"github.com/mnemo-mcp/mnemo/internal/app"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run the MCP server on stdin/stdout (for Claude Code and other MCP clients)",
		usage:   "[--model M]",
		examples: []string{
			"mnemo serve                      # what Claude Code runs (stdin/stdout MCP)",
			`claude mcp add --scope user mnemo -- "$(which mnemo)" serve`,
			"npx @modelcontextprotocol/inspector mnemo serve",
		},
		run: runServe,
	})
}

func runServe(ctx context.Context, env *runEnv, args []string) error {
	c := commands["serve"]
	fs := newFlagSet(env, c)
	var f commonFlags
	f.addModel(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "serve takes no arguments (it speaks MCP on stdin/stdout)")
	}
	return app.Serve(ctx, app.ServeOptions{
		Stdin: env.stdin, Stdout: env.stdout, Stderr: env.stderr,
		ModelName: f.model, Version: buildVersion(),
	})
}

// buildVersion is the version stamped by the Makefile (-X main.version), else
// the module version stamped by `go install`, else "dev".
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
