package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/mcpserver"
	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// ServeOptions configures Serve.
type ServeOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer // Stdout carries protocol bytes only
	ModelName      string    // overrides MNEMO_MODEL ("" keeps it)
	Version        string    // reported to clients
}

// parentPollInterval is how often serve checks that the process that started
// it is still alive. MCP clients start one server per session; a client that
// dies without closing our stdin must not leave servers piling up.
const parentPollInterval = 2 * time.Second

// openDelayMax bounds how long the runtime's opening waits for the handshake.
const openDelayMax = 100 * time.Millisecond

// closeBound bounds closing the runtime at exit: an engine still loading its
// model may take a while to stop, and a client waiting for our exit should
// not. Every write is committed by then (SQLite WAL survives an exit without
// Close).
const closeBound = time.Second

// serveMoveWait bounds how long serve waits for another process moving
// the store at start.
const serveMoveWait = 20 * time.Second

// serveDrainEvery is how often a server stores what hooks spooled.
const serveDrainEvery = 30 * time.Second

// ErrParentGone is the shutdown cause when the parent process has exited.
var ErrParentGone = errors.New("parent process exited")

// Serve is mnemo serve's lifecycle: it answers the MCP handshake at once
// while the runtime (Open) opens in the background, retried until it does;
// offers the warm socket to hooks once it is open; stops at stdin EOF, when
// ctx is done or when the parent process goes; and closes within bounds.
func Serve(ctx context.Context, o ServeOptions) error {
	// Settling the data dir (a move of the store from the legacy folder)
	// comes before the handshake: a rename takes no time; waiting for
	// another process's move is bounded well under clients' start timeouts.
	cfg, moved, err := LoadConfig(ctx, serveMoveWait)
	if err != nil {
		return err
	}

	// stdout carries protocol bytes only: the transport writes to a private
	// duplicate of it, and fd 1 itself now points at stderr.
	out := o.Stdout
	if fo, ok := o.Stdout.(*os.File); ok && fo == os.Stdout {
		if pf, err := mcpserver.ReserveStdout(); err == nil {
			out = pf
			defer pf.Close()
		} else {
			fmt.Fprintf(o.Stderr, "mnemo serve: %v (continuing)\n", err)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watchParent(ctx, cancel, os.Getppid(), os.Getppid, parentPollInterval) // the parent is read now, before anything can be logged

	if err := cfg.EnsureHome(); err != nil {
		return err
	}
	log, closeLog := logging.New(logging.Options{Level: cfg.LogLevel, Path: cfg.LogPath(), Stderr: o.Stderr, Process: "serve"})
	defer closeLog()
	moved.Log(log)

	// The handshake must not wait for anything: the runtime (store, engine,
	// service) opens in the background while initialize and tools/list are
	// answered, and tool calls wait for it. The model itself loads in the
	// background after that; recall answers by keyword (saying so) until it
	// is ready.
	svc := mcpserver.NewDeferred()
	opened := make(chan *App, 1)
	// Not the signal context: a write read before SIGTERM waits for the
	// runtime and must still find it. Cancelled once serving has stopped.
	openCtx, cancelOpen := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelOpen()
	// Start-up work (store, index, model load) waits until the handshake has
	// been answered, so it does not compete with it for the CPU; a client
	// slow to send initialize does not hold it back for long.
	handshakeDone := make(chan struct{})
	// warmDone is closed once the hooks' warm socket is gone (or never came).
	warmDone := make(chan struct{})
	var handshakeOnce sync.Once
	onFirstAnswer := func() { handshakeOnce.Do(func() { close(handshakeDone) }) }
	// A failed open is retried (with backoff, and at once when a tool call
	// needs the runtime): a full disk or a store another process holds
	// during its set-up must not leave the server useless until restarted.
	var openLogged atomic.Bool
	openOne := func(ctx context.Context) (mcpserver.Memories, error) {
		select {
		case <-handshakeDone:
		case <-time.After(openDelayMax):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		a, err := Open(ctx, Options{Stderr: o.Stderr,
			Process:     "serve",
			Source:      memory.SourceMCP,
			Model:       ModelBackground,
			ModelName:   o.ModelName,
			StderrLevel: "warn",
			// Memories written while the model loaded (or by hooks, or
			// imported) get their vectors once it is ready.
			EmbedMissing: true,
			// Notes hooks spooled while the store was busy, and uses
			// of recalls that could not be recorded, are stored now and
			// then while serving.
			Writes:     true,
			DrainEvery: serveDrainEvery,
		})
		if err != nil {
			if ctx.Err() != nil {
				// Serving stopped while the runtime opened (stdin closed at
				// once, as in `mnemo serve </dev/null`): nothing failed.
				log.Debug("runtime open abandoned: serving has stopped", "err", err)
				return nil, err
			}
			if !openLogged.Swap(true) {
				log.Error("cannot open mnemo's runtime; retrying, and tool calls will report it until it opens", "err", err)
			} else {
				log.Debug("opening mnemo's runtime failed again", "err", err)
			}
			return nil, err
		}
		// Hooks are fresh processes that cannot afford a model load: they
		// recall through this process's warm model on
		// $MNEMO_HOME/run/<pid>.sock (same user only) until serving stops.
		go func() {
			defer close(warmDone)
			if err := warm.Serve(openCtx, warm.Dir(a.Cfg.Home), a.Svc, a.Log); err != nil {
				a.Log.Warn("warm socket for hooks disabled", "err", err)
			}
		}()
		store := a.Cfg.DBPath()
		if a.Cfg.Store != "" {
			store = "MNEMO_STORE"
		}
		log.Info("runtime ready", "model", a.Cfg.Model, "store", store, "project", a.Project)
		opened <- a
		return a.Svc, nil
	}
	openStopped := svc.Open(openCtx, openOne)

	srv := mcpserver.NewServer(svc, mcpserver.Options{
		Version:         o.Version,
		MaxContentBytes: cfg.MaxContentBytes,
		ModelWait:       serverModelWait(cfg.ModelWait),
		Logger:          log,
	})
	log.Info("serving MCP on stdio", "home", cfg.Home)
	err = mcpserver.ServeStdio(ctx, srv, o.Stdin, out, mcpserver.StdioOptions{Logger: log, OnFirstAnswer: onFirstAnswer})
	log.Info("MCP server stopped", "cause", context.Cause(ctx), "err", err)
	cancelOpen() // an open still in progress gives up
	select {
	case <-openStopped:
	case <-time.After(closeBound):
		log.Warn("runtime still opening at exit; not waiting for it", "waited", closeBound)
	}
	select {
	case a := <-opened:
		select { // the socket is removed and hook requests answered first
		case <-warmDone:
		case <-time.After(closeBound):
		}
		closeWithin(a, closeBound, log)
	default:
	}
	return err
}

// serverModelWait is MNEMO_MODEL_WAIT as mcpserver.Options wants it: there
// 0 means the default and a negative wait means none.
func serverModelWait(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// watchParent cancels ctx when the parent process changes from ppid (it died
// and we were re-parented), polling getppid every interval. A ppid of 1 (or
// 0) means there is nothing to watch: started by init or a container's init,
// or orphaned before we looked, and then stdin EOF still ends the server.
func watchParent(ctx context.Context, cancel context.CancelCauseFunc, ppid int, getppid func() int, every time.Duration) {
	if ppid <= 1 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if getppid() != ppid {
				cancel(ErrParentGone)
				return
			}
		}
	}
}

// closeWithin closes the app, giving up (and logging it) after d.
func closeWithin(a *App, d time.Duration, log *slog.Logger) {
	done := make(chan error, 1)
	go func() { done <- a.Close() }()
	select {
	case err := <-done:
		if err != nil {
			log.Warn("closing the runtime", "err", err)
		}
	case <-time.After(d):
		log.Warn("runtime did not close in time; exiting anyway (every write is committed)", "waited", d)
	}
}
