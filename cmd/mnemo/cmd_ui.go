package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"runtime"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/ui"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func init() {
	register(&command{
		name:    "ui",
		summary: "browse, search and curate memories in the browser (local web viewer on 127.0.0.1)",
		usage:   "[--port N] [--no-open]",
		examples: []string{
			"mnemo ui                        # opens the viewer in the browser",
			"mnemo ui --port 8765 --no-open  # a fixed port; print the URL only (e.g. over ssh -L 8765:127.0.0.1:8765)",
		},
		run: runUI,
	})
}

func runUI(ctx context.Context, env *runEnv, args []string) error {
	c := commands["ui"]
	fs := newFlagSet(env, c)
	port := fs.Int("port", 0, "port on 127.0.0.1 (0: any free port)")
	noOpen := fs.Bool("no-open", false, "print the URL without opening a browser")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr(env, "ui takes no arguments (got %q)", pos[0])
	}
	if *port < 0 || *port > 65535 {
		return usageErr(env, "--port %d is not a port (0-65535)", *port)
	}
	// The model is not loaded until a search needs it: browsing and
	// curating start at once and stay small.
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "ui", Source: memory.SourceCLI, Model: app.ModelNone, StderrLevel: "warn"})
	if err != nil {
		return err
	}
	defer a.Close()
	lazy := ui.NewModel(a.Cfg, a.Log)
	defer lazy.Close()
	svc, err := app.NewService(a.Cfg, a.Store, lazy, a.Project, memory.SourceCLI, a.Log)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), app.CloseUsesWait)
		defer cancel()
		_ = svc.Close(cctx)
	}()
	srv, err := ui.New(ui.Options{Svc: svc, Engine: lazy.Engine, LogPath: a.Cfg.LogPath(), Logger: a.Log})
	if err != nil {
		return err
	}
	ln, err := ui.Listen(*port)
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%d: %w", *port, err)
	}
	srv.SetPort(ln.Addr().(*net.TCPAddr).Port)
	url := srv.URL()
	fmt.Fprintf(env.stdout, "mnemo ui: %s\n(127.0.0.1 only; the link works for this run. Ctrl-C stops.)\n", url)
	if !*noOpen {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(env.stderr, "could not open a browser (%v); open the URL above\n", err)
		}
	}
	return srv.Serve(ctx, ln)
}

// openBrowser opens url with the desktop's handler, without waiting.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
