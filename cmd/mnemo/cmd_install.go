package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mnemo-mcp/mnemo/internal/claudecode"
	"github.com/mnemo-mcp/mnemo/internal/marks"
	"github.com/mnemo-mcp/mnemo/pkg/config"
)

func init() {
	register(&command{
		name:    "install",
		summary: "register mnemo with Claude Code: MCP server (claude mcp add) and memory hooks in settings.json",
		usage:   "[--scope user|project] [--capture] [--dry-run]",
		examples: []string{
			"mnemo install                    # MCP server and memory hooks, for every project",
			"mnemo install --dry-run          # show what would change, change nothing",
			"mnemo install --scope project --capture",
		},
		run: func(ctx context.Context, env *runEnv, args []string) error { return runInstall(ctx, env, args, true) },
	})
	register(&command{
		name:    "uninstall",
		summary: "remove mnemo's hooks and MCP registration from Claude Code (other settings stay)",
		usage:   "[--scope user|project] [--dry-run]",
		examples: []string{
			"mnemo uninstall                  # remove the MCP server and hooks (user scope)",
			"mnemo uninstall --dry-run",
			"mnemo uninstall --scope project",
		},
		run: func(ctx context.Context, env *runEnv, args []string) error { return runInstall(ctx, env, args, false) },
	})
}

func runInstall(ctx context.Context, env *runEnv, args []string, install bool) error {
	name := "uninstall"
	if install {
		name = "install"
	}
	fs := newFlagSet(env, commands[name])
	scopeHelp := "user (~/.claude/settings.json, all projects) or project (<project>/.claude/settings.json, .mcp.json)"
	if install {
		scopeHelp = "user (~/.claude/settings.json, ~/.claude.json: all projects) or project (<project>/.claude/settings.json, .mcp.json: files to commit, so MNEMO_* settings that hold a credential are refused)"
	}
	scope := fs.String("scope", "user", scopeHelp)
	dryRun := fs.Bool("dry-run", false, "print what would change; change nothing")
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	capture := cfg.HookCapture
	if install {
		fs.BoolVar(&capture, "capture", capture, "also install SessionEnd/PreCompact hooks that store lines starting with \"remember:\" (default $MNEMO_HOOK_CAPTURE)")
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr(env, "unexpected argument %q", rest[0])
	}
	if *scope != "user" && *scope != "project" {
		return usageErr(env, "--scope %q: want user or project", *scope)
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this binary's path: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	home, _ := os.UserHomeDir()
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	s := claudecode.Setup{
		Scope:      *scope,
		Home:       home,
		ProjectDir: claudecode.ProjectRoot(os.Getenv, cwd),
		Exe:        exe,
		Capture:    capture,
		Env:        installEnvVars(os.LookupEnv),
		ConfigFile: cfg.ConfigFile,
	}
	o := claudecode.Options{DryRun: *dryRun, Out: env.stdout, Marks: marks.For(env.stdout)}
	if p, err := exec.LookPath("claude"); err == nil {
		o.Claude = p
	}
	if install {
		if err := claudecode.Install(ctx, s, o); err != nil {
			return err
		}
		if !*dryRun {
			fmt.Fprintln(env.stdout, "Restart Claude Code to load the hooks; check with: mnemo doctor")
		}
		return nil
	}
	return claudecode.Uninstall(ctx, s, o)
}

// installEnvVars are the MNEMO_* settings set now, which the registered
// server gets too: a MNEMO_MODEL or MNEMO_HOME set at install time is what
// the user means the server to use.
func installEnvVars(lookup func(string) (string, bool)) map[string]string {
	env := map[string]string{}
	for _, v := range config.Vars {
		if v.TestOnly() {
			continue
		}
		if val, ok := lookup(v.Name); ok && strings.TrimSpace(val) != "" {
			env[v.Name] = val
		}
	}
	if len(env) == 0 {
		return nil
	}
	return env
}
